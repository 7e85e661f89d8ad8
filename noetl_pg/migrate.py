"""The migrate command: versioned migrations per database role, then every function file.

Order for each database (data-model §1.6): bookkeeping table, functions/ids.sql, the pending
files of migrations/common, /cluster and /shard that the role needs (each in its own
transaction with its bookkeeping row), the identity row, then functions/<set>/*.sql and
functions/<set>/triggers/*.sql in one transaction. Every database is planned and checked before
any database is changed, so a changed file or a mis-ordered shard list changes nothing.
"""

from __future__ import annotations

import hashlib
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from noetl_pg.dsn import DatabaseConfig, database_key, describe_dsn
from noetl_pg.errors import MigrationError, UserError
from noetl_pg.paths import FUNCTIONS_DIR, MIGRATIONS_DIR
from noetl_pg.queries import Queries

SETS = ("common", "cluster", "shard")
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True)
class MigrationFile:
    migration_set: str
    version: int
    name: str
    path: Path
    checksum: str

    @property
    def label(self) -> str:
        return f"{self.migration_set}/{self.path.name}"


@dataclass(frozen=True)
class Target:
    """One database and the role it plays in the deployment."""

    dsn: str
    is_cluster: bool
    is_shard: bool
    shard_index: int | None
    shard_count: int

    @property
    def machine_id(self) -> int:
        # data-model §5.2: 512 + shard index for a shard (also a coinciding cluster), 1023 alone.
        return 512 + self.shard_index if self.shard_index is not None else 1023

    @property
    def sets(self) -> list[str]:
        return ["common"] + (["cluster"] if self.is_cluster else []) + (["shard"] if self.is_shard else [])

    @property
    def label(self) -> str:
        parts = (["cluster"] if self.is_cluster else []) + (
            [f"shard {self.shard_index}"] if self.is_shard else []
        )
        return " + ".join(parts) + f" ({describe_dsn(self.dsn)})"


@dataclass
class Plan:
    """What migrate would do to one database, and what it found there."""

    target: Target
    applied: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)
    pending: list[MigrationFile] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    needs_identity: bool = True


def load_migrations(root: Path = MIGRATIONS_DIR) -> dict[str, list[MigrationFile]]:
    """The migration files of every set, in version order; a bad name or a reused version fails."""
    found: dict[str, list[MigrationFile]] = {}
    for migration_set in SETS:
        files: list[MigrationFile] = []
        seen: dict[int, str] = {}
        for path in sorted((root / migration_set).glob("*.sql")):
            match = _FILE_NAME.match(path.name)
            if not match:
                raise MigrationError(f"migration file name {migration_set}/{path.name} is not NNNN_name.sql")
            version = int(match.group(1))
            if version in seen:
                raise MigrationError(
                    f"migrations {migration_set}/{seen[version]} and {migration_set}/{path.name} share version {version}"
                )
            seen[version] = path.name
            files.append(MigrationFile(migration_set, version, path.stem, path,
                                       hashlib.sha256(path.read_bytes()).hexdigest()))
        found[migration_set] = files
    return found


def function_files(target: Target, root: Path = FUNCTIONS_DIR) -> list[Path]:
    """Function files after the migrations: functions first, then the triggers that call them."""
    files: list[Path] = []
    for migration_set in target.sets:
        files.extend(sorted((root / migration_set).glob("*.sql")))
    for migration_set in target.sets:
        files.extend(sorted((root / migration_set / "triggers").glob("*.sql")))
    return files


def targets_from_config(config: DatabaseConfig) -> list[Target]:
    """Cluster first, then shards 0..N-1; a cluster DSN naming shard 0 makes one dual database."""
    n = len(config.shard_dsns)
    cluster_is_shard0 = database_key(config.cluster_dsn) == database_key(config.shard_dsns[0])
    targets: list[Target] = []
    if not cluster_is_shard0:
        targets.append(Target(config.cluster_dsn, True, False, None, n))
    for index, dsn in enumerate(config.shard_dsns):
        targets.append(Target(dsn, cluster_is_shard0 and index == 0, True, index, n))
    return targets


def connect(dsn: str) -> psycopg.Connection:
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                               options="-c TimeZone=UTC")
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "connection failed"
        raise UserError(f"cannot connect to database {describe_dsn(dsn)}: {reason}") from None
    return conn


class Migrator:
    """Plans and applies migrations for a list of databases."""

    def __init__(self, targets: Sequence[Target], *, outbox_gate_keys: int = 1,
                 say: Callable[[str], None] = print,
                 migrations_root: Path = MIGRATIONS_DIR, functions_root: Path = FUNCTIONS_DIR) -> None:
        self.targets = list(targets)
        self.outbox_gate_keys = outbox_gate_keys
        self.say = say
        self.functions_root = functions_root
        self.files = load_migrations(migrations_root)
        self.q = Queries.load("migrate")
        self.applied_by = f"noetl-pg migrate on {socket.gethostname()}"

    # -- planning -------------------------------------------------------------------------------

    def _plan(self, conn: psycopg.Connection, target: Target) -> Plan:
        plan = Plan(target)
        if conn.execute(self.q.bookkeeping_exists).fetchone()[0]:
            for row in conn.execute(self.q.applied):
                plan.applied[(row[0], row[1])] = (row[2], row[3])
        known = {(f.migration_set, f.version) for s in self.files.values() for f in s}
        for migration_set in target.sets:
            for mfile in self.files[migration_set]:
                recorded = plan.applied.get((migration_set, mfile.version))
                if recorded is None:
                    plan.pending.append(mfile)
                elif recorded[1] != mfile.checksum:
                    raise MigrationError(
                        f"{target.label}: applied migration {mfile.label} has changed since it was "
                        "applied (checksum differs); restore it and put the change in a new file"
                    )
        plan.unknown = [f"{s}/{v:04d}_{n}" for (s, v), (n, _) in plan.applied.items() if (s, v) not in known]
        if any(s not in target.sets for (s, _v) in plan.applied):
            applied_sets = sorted({s for (s, _v) in plan.applied})
            raise MigrationError(
                f"{target.label}: database already holds migration sets {applied_sets}, "
                f"which do not match its configured role {target.sets}"
            )
        if conn.execute(self.q.identity_table_exists).fetchone()[0]:
            row = conn.execute(self.q.identity).fetchone()
            if row is not None:
                plan.needs_identity = False
                self._check_identity(target, row)
        return plan

    @staticmethod
    def _check_identity(target: Target, row: tuple) -> None:
        is_cluster, is_shard, shard_index, shard_count, _machine = row
        if shard_count != target.shard_count:
            raise MigrationError(
                f"{target.label}: database records shard_count {shard_count} but the configuration "
                f"has {target.shard_count} shards; resharding is not supported"
            )
        if (is_cluster, is_shard, shard_index) != (target.is_cluster, target.is_shard, target.shard_index):
            recorded = Target(target.dsn, is_cluster, is_shard, shard_index, shard_count)
            raise MigrationError(
                f"{describe_dsn(target.dsn)}: database is recorded as {recorded.label.split(' (')[0]} "
                f"but configured as {target.label.split(' (')[0]}; check the order of NOETL_SHARDS"
            )

    # -- applying -------------------------------------------------------------------------------

    def _apply(self, conn: psycopg.Connection, plan: Plan) -> None:
        target = plan.target
        conn.execute(self.q.bootstrap)
        self._run_file(conn, self.functions_root / "ids.sql", target)
        for mfile in plan.pending:
            try:
                with conn.transaction():
                    conn.execute(mfile.path.read_text())
                    conn.execute(self.q.record, {
                        "migration_set": mfile.migration_set, "version": mfile.version,
                        "name": mfile.name, "checksum": mfile.checksum, "applied_by": self.applied_by,
                    })
            except psycopg.Error as exc:
                raise MigrationError(f"{target.label}: migration {mfile.label} failed: {_pg_message(exc)}") from None
            self.say(f"  applied {mfile.label}")
        if plan.needs_identity:
            conn.execute(self.q.record_identity, {
                "is_cluster": target.is_cluster, "is_shard": target.is_shard,
                "shard_index": target.shard_index, "shard_count": target.shard_count,
                "machine_id": target.machine_id,
            })
        with conn.transaction():
            for path in function_files(target, self.functions_root):
                self._run_file(conn, path, target)
        conn.execute(self.q.configure_database,
                     {"gate_keys": self.outbox_gate_keys if target.is_shard else None})
        if target.is_shard:
            for (name,) in conn.execute(self.q.ensure_event_partitions):
                self.say(f"  created partition {name}")

    def _run_file(self, conn: psycopg.Connection, path: Path, target: Target) -> None:
        try:
            with conn.transaction():
                conn.execute(path.read_text())
        except psycopg.Error as exc:
            rel = path.relative_to(self.functions_root.parent)
            raise MigrationError(f"{target.label}: {rel} failed: {_pg_message(exc)}") from None

    # -- entry points ---------------------------------------------------------------------------

    def _open_all(self) -> list[psycopg.Connection]:
        conns: list[psycopg.Connection] = []
        try:
            for target in self.targets:
                conns.append(connect(target.dsn))
        except BaseException:
            for conn in conns:
                conn.close()
            raise
        return conns

    def plans(self) -> list[Plan]:
        conns = self._open_all()
        try:
            return [self._plan(conn, t) for conn, t in zip(conns, self.targets)]
        finally:
            for conn in conns:
                conn.close()

    def run(self, *, dry_run: bool = False) -> list[Plan]:
        """Plan every database (failing before any change), then apply unless dry_run."""
        conns = self._open_all()
        try:
            for conn in conns:
                conn.execute(self.q.lock)
            plans = [self._plan(conn, t) for conn, t in zip(conns, self.targets)]
            for plan in plans:
                pending = ", ".join(f.label for f in plan.pending) or "no pending migrations"
                verb = "would apply" if dry_run else "migrating"
                self.say(f"{plan.target.label}: {verb} {pending}; then re-apply functions/")
                for name in plan.unknown:
                    self.say(f"  warning: applied migration {name} is unknown to this version (database is ahead)")
            if not dry_run:
                for conn, plan in zip(conns, plans):
                    try:
                        self._apply(conn, plan)
                    except psycopg.Error as exc:
                        raise MigrationError(f"{plan.target.label}: {_pg_message(exc)}") from None
            return plans
        finally:
            for conn in conns:
                if not conn.closed:
                    try:
                        conn.execute(self.q.unlock)
                    except psycopg.Error:
                        pass
                    conn.close()

    def status(self) -> list[Plan]:
        plans = self.plans()
        for plan in plans:
            self.say(f"{plan.target.label}:")
            for (mset, version), (name, _checksum) in sorted(plan.applied.items()):
                self.say(f"  applied  {mset}/{version:04d}_{name}")
            for mfile in plan.pending:
                self.say(f"  pending  {mfile.label}")
            if not plan.applied and not plan.pending:
                self.say("  nothing to apply")
            self.say("")
        return plans


def _pg_message(exc: psycopg.Error) -> str:
    diag = getattr(exc, "diag", None)
    primary = diag.message_primary if diag is not None and diag.message_primary else str(exc)
    return primary.strip().splitlines()[0] if primary.strip() else type(exc).__name__


def ensure_current(targets: Sequence[Target], *, auto_migrate: bool, outbox_gate_keys: int = 1,
                   say: Callable[[str], None] = print) -> None:
    """The server's start-up check (data-model §1.6): a database behind this build is migrated
    when `auto_migrate`, else the server refuses to start; one ahead of it only gets a warning."""
    quiet = Migrator(targets, outbox_gate_keys=outbox_gate_keys, say=lambda _m: None)
    plans = quiet.plans()
    for plan in plans:
        for name in plan.unknown:
            say(f"warning: {plan.target.label} has migration {name}, unknown to this version (database is ahead)")
    behind = [plan for plan in plans if plan.pending]
    if not behind:
        return
    if not auto_migrate:
        first = behind[0]
        raise MigrationError(
            f"{first.target.label} is behind this server: {len(first.pending)} pending migrations "
            f"(first {first.pending[0].label}); run `noetl-pg migrate` or set NOETL_AUTO_MIGRATE=true"
        )
    Migrator(targets, outbox_gate_keys=outbox_gate_keys, say=say).run()
