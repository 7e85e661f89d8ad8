"""Every tests/sql/**/*.sql pgTAP file is one pytest test, run against a freshly migrated database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import Templates
from tests.pgtap import required_role, run_pgtap

SQL_TESTS = Path(__file__).parent / "sql"
FILES = sorted(SQL_TESTS.rglob("*.sql"))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SQL_TESTS)) for p in FILES])
def test_pgtap_file(path: Path, templates: Templates) -> None:
    name = templates.fresh(required_role(path), prefix="tap")
    try:
        templates.pg.psql(name, "CREATE EXTENSION IF NOT EXISTS pgtap")
        report = run_pgtap(templates.pg.bindir / "psql", templates.pg.dsn(name), path)
    finally:
        templates.drop(name)
    assert report.ok, report.explain()
