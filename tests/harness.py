"""The test harness's databases: one private cluster per session, migrated template databases,
and fresh copies of them per test module or pgTAP file (CREATE DATABASE ... TEMPLATE is a file copy).
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

from noetl_pg.localstack import LocalPostgres
from noetl_pg.migrate import Migrator, Target

# Template per role: (is_cluster, is_shard, shard_index, shard_count).
ROLES: dict[str, tuple[bool, bool, int | None, int]] = {
    "both": (True, True, 0, 1),          # N = 1: the cluster database is shard 0
    "cluster": (True, False, None, 2),   # a standalone cluster database (machine id 1023)
    "shard0": (False, True, 0, 2),
    "shard": (False, True, 1, 2),        # pgTAP's "shard": shard 1 of 2 (machine id 513)
}


@dataclass(frozen=True)
class TestDatabases:
    """A fresh cluster database and two shard databases, migrated (cluster separate from shards)."""

    __test__ = False
    cluster_dsn: str
    shard_dsns: list[str]
    names: list[str]


class Templates:
    """Migrates one template database per role, lazily, and clones fresh databases from them."""

    def __init__(self, pg: LocalPostgres) -> None:
        self.pg = pg
        self._made: set[str] = set()
        self._lock = threading.Lock()
        self._counter = itertools.count(1)

    def template(self, role: str) -> str:
        name = f"tmpl_{role}"
        with self._lock:
            if name not in self._made:
                is_cluster, is_shard, index, count = ROLES[role]
                self.pg.drop_database(name)
                self.pg.create_database(name)
                Migrator([Target(self.pg.dsn(name), is_cluster, is_shard, index, count)], say=lambda _m: None).run()
                self._made.add(name)
        return name

    def fresh(self, role: str, prefix: str = "t") -> str:
        """A new database cloned from the role's template; returns its name."""
        template = self.template(role)
        name = f"{prefix}_{role}_{next(self._counter)}"
        self.pg.drop_database(name)
        self.pg.create_database(name, template=template)
        # Database-level settings are not copied from a template; migrate would set them.
        gate_keys = "1" if ROLES[role][1] else "NULL"
        self.pg.psql(name, f"SELECT noetl.configure_database(p_outbox_gate_keys => {gate_keys})")
        return name

    def fresh_deployment(self, prefix: str = "t") -> TestDatabases:
        names = [self.fresh("cluster", prefix), self.fresh("shard0", prefix), self.fresh("shard", prefix)]
        return TestDatabases(self.pg.dsn(names[0]), [self.pg.dsn(n) for n in names[1:]], names)

    def drop(self, *names: str) -> None:
        for name in names:
            self.pg.drop_database(name)
