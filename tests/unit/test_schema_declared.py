"""Migrations yield exactly the declared schema: a fresh migrate, dumped, equals tests/schema/."""

from __future__ import annotations

import difflib
import re

import pytest

from tests.harness import Templates
from tests.schema_dump import DUMP_ROLES, SCHEMA_DIR, dump_database

_TABLE = re.compile(r"^CREATE (?:UNLOGGED )?TABLE noetl\.(\w+)", re.MULTILINE)


@pytest.mark.parametrize("role", DUMP_ROLES)
def test_fresh_migrate_matches_the_declared_schema(role: str, templates: Templates) -> None:
    declared = (SCHEMA_DIR / f"{role}.sql").read_text()
    actual = dump_database(templates.pg, templates.template(role))
    if actual != declared:
        diff = "".join(list(difflib.unified_diff(
            declared.splitlines(keepends=True), actual.splitlines(keepends=True),
            f"tests/schema/{role}.sql (declared)", "fresh migrate"))[:120])
        pytest.fail(f"schema differs from tests/schema/{role}.sql; if intended, run `make schema-dump`\n{diff}")


def test_dual_database_holds_exactly_the_cluster_and_shard_tables() -> None:
    def tables(role: str) -> set[str]:
        return set(_TABLE.findall((SCHEMA_DIR / f"{role}.sql").read_text()))

    cluster, shard, both = tables("cluster"), tables("shard"), tables("both")
    assert cluster and shard
    assert cluster & shard == {"shard_info", "schema_migration"}, "only the per-database tables are shared"
    assert both == cluster | shard
