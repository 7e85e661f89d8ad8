"""The migrate command against the real private PostgreSQL cluster."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from noetl_pg.errors import MigrationError, UserError
from noetl_pg.localstack import LocalPostgres, free_port
from noetl_pg.migrate import Migrator, Target
from noetl_pg.paths import MIGRATIONS_DIR
from tests.harness import Templates
from tests.schema_dump import dump_database

QUIET = {"say": lambda _m: None}


def _empty_db(pg: LocalPostgres, name: str) -> str:
    pg.drop_database(name)
    pg.create_database(name)
    return pg.dsn(name)


def _snapshot(dsn: str) -> tuple:
    with psycopg.connect(dsn) as conn:
        migrations = conn.execute("SELECT * FROM noetl.schema_migration ORDER BY 1, 2").fetchall()
        identity = conn.execute("SELECT * FROM noetl.shard_info").fetchall()
        functions = conn.execute(
            "SELECT p.oid::regprocedure::text, md5(pg_get_functiondef(p.oid)) FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'noetl' ORDER BY 1"
        ).fetchall()
    return migrations, identity, functions


def _has_bookkeeping(dsn: str) -> bool:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT to_regclass('noetl.schema_migration') IS NOT NULL").fetchone()[0]


def test_second_migrate_changes_nothing(pg_server: LocalPostgres) -> None:
    dsn = _empty_db(pg_server, "mig_twice")
    target = Target(dsn, True, True, 0, 1)
    first = Migrator([target], **QUIET).run()
    assert first[0].pending, "a fresh database has pending migrations"
    before, dump_before = _snapshot(dsn), dump_database(pg_server, "mig_twice")

    second = Migrator([target], **QUIET).run()

    assert second[0].pending == []
    assert _snapshot(dsn) == before
    assert dump_database(pg_server, "mig_twice") == dump_before


def test_every_migration_file_is_recorded_with_its_checksum(pg_server: LocalPostgres) -> None:
    dsn = _empty_db(pg_server, "mig_recorded")
    migrator = Migrator([Target(dsn, True, True, 0, 1)], **QUIET)
    migrator.run()
    expected = {(f.migration_set, f.version, f.name, f.checksum) for s in migrator.files.values() for f in s}
    with psycopg.connect(dsn) as conn:
        recorded = set(conn.execute("SELECT migration_set, version, name, checksum FROM noetl.schema_migration"))
    assert recorded == expected


def test_changed_applied_migration_stops_before_any_database_changes(pg_server: LocalPostgres, tmp_path: Path) -> None:
    root = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, root)
    migrated = _empty_db(pg_server, "mig_changed_a")
    Migrator([Target(migrated, True, True, 0, 1)], migrations_root=root, **QUIET).run()
    first_shard_file = sorted((root / "shard").glob("*.sql"))[0]
    first_shard_file.write_text(first_shard_file.read_text() + "\n-- edited after release\n")
    untouched = _empty_db(pg_server, "mig_changed_b")

    with pytest.raises(MigrationError, match=rf"applied migration shard/{first_shard_file.name} has changed"):
        Migrator([Target(untouched, False, True, 1, 2), Target(migrated, True, True, 0, 1)],
                 migrations_root=root, **QUIET).run()

    assert not _has_bookkeeping(untouched)


def test_misnamed_migration_file_is_refused(tmp_path: Path, pg_server: LocalPostgres) -> None:
    root = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, root)
    (root / "shard" / "12_no_padding.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"shard/12_no_padding.sql is not NNNN_name.sql"):
        Migrator([Target(pg_server.dsn("postgres"), True, True, 0, 1)], migrations_root=root, **QUIET)


def test_failing_migration_is_rolled_back_and_not_recorded(pg_server: LocalPostgres, tmp_path: Path) -> None:
    root = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, root)
    (root / "shard" / "9999_broken.sql").write_text(
        "CREATE TABLE noetl.half_done (x int);\nSELECT no_such_column FROM noetl.execution;\n"
    )
    dsn = _empty_db(pg_server, "mig_broken")
    with pytest.raises(MigrationError, match=r"migration shard/9999_broken.sql failed: column \"no_such_column\""):
        Migrator([Target(dsn, False, True, 0, 1)], migrations_root=root, **QUIET).run()
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT to_regclass('noetl.half_done')").fetchone()[0] is None
        versions = [r[0] for r in conn.execute("SELECT version FROM noetl.schema_migration WHERE migration_set = 'shard'")]
    assert 9999 not in versions


def test_swapped_shard_order_is_refused(templates: Templates) -> None:
    shard1 = templates.pg.dsn(templates.fresh("shard", prefix="swap"))
    with pytest.raises(MigrationError, match=r"recorded as shard 1 but configured as shard 0; check the order of NOETL_SHARDS"):
        Migrator([Target(shard1, False, True, 0, 2)], **QUIET).run()


def test_changing_the_shard_count_is_refused(templates: Templates) -> None:
    shard1 = templates.pg.dsn(templates.fresh("shard", prefix="reshard"))
    with pytest.raises(MigrationError, match=r"records shard_count 2 but the configuration has 3 shards; resharding"):
        Migrator([Target(shard1, False, True, 1, 3)], **QUIET).run()


def test_cluster_database_refuses_shard_role(templates: Templates) -> None:
    cluster = templates.pg.dsn(templates.fresh("cluster", prefix="role"))
    with pytest.raises(MigrationError, match=r"do not match its configured role"):
        Migrator([Target(cluster, False, True, 0, 2)], **QUIET).run()


def test_dry_run_changes_nothing(pg_server: LocalPostgres) -> None:
    dsn = _empty_db(pg_server, "mig_dry")
    said: list[str] = []
    plans = Migrator([Target(dsn, True, True, 0, 1)], say=said.append).run(dry_run=True)
    assert plans[0].pending
    assert any("would apply common/0001_" in line for line in said)
    assert not _has_bookkeeping(dsn)


def test_unreachable_database_is_one_clear_error() -> None:
    port = free_port()
    dsn = f"host=127.0.0.1 port={port} user=noetl dbname=nowhere"
    with pytest.raises(UserError, match=rf"cannot connect to database 127.0.0.1:{port}/nowhere"):
        Migrator([Target(dsn, True, True, 0, 1)], **QUIET).run()


def test_database_defaults_are_utc_and_gate_keys(templates: Templates) -> None:
    shard = templates.pg.dsn(templates.fresh("shard", prefix="tz"))
    with psycopg.connect(shard) as conn:  # no TimeZone option: the database default applies
        assert conn.execute("SHOW timezone").fetchone()[0] == "UTC"
        assert conn.execute("SELECT current_setting('noetl.outbox_gate_keys')").fetchone()[0] == "1"


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("NOETL_", "POSTGRES_"))} | env
    return subprocess.run([sys.executable, "-m", "noetl_pg.cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=120)


def _kv(pg: LocalPostgres, name: str) -> str:
    return f"host=127.0.0.1;port={pg.port};user=noetl;database={name}"


def test_cli_migrates_two_shards_and_reports_status(pg_server: LocalPostgres) -> None:
    for name in ("cli_cluster", "cli_s0", "cli_s1"):
        _empty_db(pg_server, name)
    env = {"NOETL_CLUSTER_DSN": _kv(pg_server, "cli_cluster"),
           "NOETL_SHARDS": f"{_kv(pg_server, 'cli_s0')},{_kv(pg_server, 'cli_s1')}"}

    before = _cli(["migrate", "--status"], env)
    applied = _cli(["migrate"], env)
    after = _cli(["migrate", "--status"], env)

    assert before.returncode == 0 and "pending  shard/0001_" in before.stdout
    assert applied.returncode == 0, applied.stderr
    assert after.returncode == 0, after.stderr
    assert "pending" not in after.stdout
    for label in ("cluster (127.0.0.1", "shard 0 (127.0.0.1", "shard 1 (127.0.0.1"):
        section = after.stdout.split(label, 1)[1].split("\n\n")[0]
        assert "applied  common/0001_" in section
    assert "applied  shard/0001_" in after.stdout.split("shard 1 (", 1)[1]
    cluster_section = after.stdout.split("cluster (", 1)[1].split("shard 0 (", 1)[0]
    assert "shard/" not in cluster_section and "applied  cluster/0001_" in cluster_section


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NOETL_SHARDS": "host=a;user=u,,host=b;user=u"}, "NOETL_SHARDS"),
        ({"NOETL_SHARDS": "host=a;port=x;user=u"}, "port"),
        ({"NOETL_SCHEMA": "other"}, "NOETL_SCHEMA must be 'noetl'"),
        ({"NOETL_BRIDGE_GATE_KEYS": "zero"}, "NOETL_BRIDGE_GATE_KEYS must be an integer"),
    ],
    ids=["empty-shard-entry", "bad-port", "schema-name", "gate-keys"],
)
def test_cli_bad_settings_are_one_line_and_non_zero(env: dict[str, str], message: str) -> None:
    result = _cli(["migrate"], env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("noetl-pg: ") and message in lines[0]


def test_cli_unreachable_database_is_one_line_and_non_zero() -> None:
    result = _cli(["migrate", "--dsn", f"postgresql://noetl@127.0.0.1:{free_port()}/x"], {})
    assert result.returncode != 0
    assert result.stderr.startswith("noetl-pg: cannot connect to database 127.0.0.1:")
    assert "Traceback" not in result.stderr


def test_server_start_refuses_a_database_behind_this_build(pg_server: LocalPostgres) -> None:
    from noetl_pg.migrate import ensure_current

    dsn = _empty_db(pg_server, "mig_behind")
    with pytest.raises(MigrationError, match=r"is behind this server: \d+ pending migrations \(first common/0001_"):
        ensure_current([Target(dsn, True, True, 0, 1)], auto_migrate=False, say=lambda _m: None)
    assert not _has_bookkeeping(dsn)


def test_server_start_migrates_when_auto_migrate_is_set(pg_server: LocalPostgres) -> None:
    from noetl_pg.migrate import ensure_current

    dsn = _empty_db(pg_server, "mig_auto")
    target = Target(dsn, True, True, 0, 1)
    ensure_current([target], auto_migrate=True, say=lambda _m: None)
    assert Migrator([target], **QUIET).plans()[0].pending == []


def test_server_start_warns_about_a_database_ahead(templates: Templates) -> None:
    from noetl_pg.migrate import ensure_current

    dsn = templates.pg.dsn(templates.fresh("both", prefix="ahead"))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO noetl.schema_migration (migration_set, version, name, checksum) "
                     "VALUES ('shard', 9000, 'from_a_newer_server', 'x')")
    said: list[str] = []
    ensure_current([Target(dsn, True, True, 0, 1)], auto_migrate=False, say=said.append)
    assert said == [f"warning: cluster + shard 0 ({dsn.split()[0][5:]}:{templates.pg.port}/"
                    f"{dsn.split('dbname=')[1]}) has migration shard/9000_from_a_newer_server, "
                    "unknown to this version (database is ahead)"]


def test_serve_refuses_an_unmigrated_database_in_one_line(pg_server: LocalPostgres) -> None:
    _empty_db(pg_server, "serve_behind")
    result = _cli(["serve"], {"NOETL_CLUSTER_DSN": _kv(pg_server, "serve_behind"),
                              "NOETL_ALLOW_INSECURE_DEFAULT_KEY": "true", "NOETL_PORT": str(free_port())})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("noetl-pg: cluster + shard 0 (127.0.0.1:")
    assert "is behind this server" in result.stderr and "NOETL_AUTO_MIGRATE=true" in result.stderr
