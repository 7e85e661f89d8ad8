"""Every tests/sql/**/*.sql pgTAP file is one pytest test, run against a freshly migrated database.

A file that mentions `test_plans` gets the table `public.test_plans(name, plan)` filled with the
compiled plan of every playbook under tests/playbooks/ (name = path without `.yaml`), compiled by
the real compiler, so SQL workflow tests drive the plans the app would store.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import psycopg
import pytest

from tests.harness import Templates
from tests.pgtap import required_role, run_pgtap

SQL_TESTS = Path(__file__).parent / "sql"
PLAYBOOKS = Path(__file__).parent / "playbooks"
FILES = sorted(SQL_TESTS.rglob("*.sql"))


@cache
def compiled_plans() -> dict[str, dict]:
    from noetl_pg.playbook import compile_playbook

    plans: dict[str, dict] = {}
    for path in sorted(PLAYBOOKS.rglob("*.yaml")):
        name = str(path.relative_to(PLAYBOOKS).with_suffix(""))
        plans[name] = compile_playbook(path.read_text()).plan
    return plans


def load_test_plans(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.test_plans (name text PRIMARY KEY, plan jsonb NOT NULL)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO public.test_plans (name, plan) VALUES (%s, %s::jsonb)",
                            [(name, json.dumps(plan)) for name, plan in compiled_plans().items()])


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SQL_TESTS)) for p in FILES])
def test_pgtap_file(path: Path, templates: Templates) -> None:
    name = templates.fresh(required_role(path), prefix="tap")
    try:
        templates.pg.psql(name, "CREATE EXTENSION IF NOT EXISTS pgtap SCHEMA public")
        if "test_plans" in path.read_text():
            load_test_plans(templates.pg.dsn(name))
        report = run_pgtap(templates.pg.bindir / "psql", templates.pg.dsn(name), path)
    finally:
        templates.drop(name)
    assert report.ok, report.explain()
