"""The declared schema: pg_dump of a freshly migrated database per role, committed under
tests/schema/. `make schema-dump` rewrites the files; tests/unit/test_schema_declared.py compares.

The dump is normalised so it depends only on the migrations and functions: pg_dump's banner and
SET lines are dropped, functions and triggers (functions/, tested by pgTAP) are left out, and
event partitions that ensure_event_partitions() adds from 2028 on
(they depend on today's date) are left out.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from noetl_pg.localstack import LocalPostgres

SCHEMA_DIR = Path(__file__).parent / "schema"
DUMP_ROLES = ("cluster", "shard", "both")
_HEADER = re.compile(r"^-- Name: (?P<name>[^;]+); Type: (?P<type>[A-Z ]+);")
# Functions and triggers come from functions/, re-applied on every migrate and tested by pgTAP;
# the declared schema is what the migrations create.
_NOT_MIGRATIONS = {"FUNCTION", "PROCEDURE", "AGGREGATE", "TRIGGER"}
_DATED_PARTITION = re.compile(r"\bevent_(20(2[89]|[3-9]\d)|2[1-9]\d\d)_q[1-4]\b")


def normalise(dump: str) -> str:
    """Keep the object definitions, drop banners, settings and the date-dependent partitions.

    Objects are sorted by their pg_dump header: pg_dump's order depends on every object,
    functions included, so it shifts when a function file changes.
    """
    blocks: list[list[str]] = [[]]
    for line in dump.splitlines():
        if _HEADER.match(line):
            blocks.append([line])
        else:
            blocks[-1].append(line)
    kept: list[list[str]] = []
    for block in blocks:
        header = _HEADER.match(block[0]) if block else None
        if header is None:
            continue  # the preamble before the first object: settings only
        if _DATED_PARTITION.search("\n".join(block)) or header.group("type") in _NOT_MIGRATIONS:
            continue
        lines = [block[0]]
        for line in block[1:]:
            # \restrict / \unrestrict carry a random token per dump (pg_dump >= 15.14).
            if line.startswith(("--", "SET ", "SELECT pg_catalog.set_config", "\\restrict", "\\unrestrict")):
                continue
            if line.strip():
                lines.append(line)
        kept.append(lines)
    kept.sort(key=lambda lines: lines[0])
    return "\n".join(line for lines in kept for line in lines) + "\n"


def dump_database(pg: LocalPostgres, dbname: str) -> str:
    proc = subprocess.run(
        [str(pg.bindir / "pg_dump"), "--schema-only", "--schema=noetl", "--no-owner", "--no-privileges",
         "-d", pg.dsn(dbname)],
        capture_output=True, text=True, check=True,
    )
    return normalise(proc.stdout)


def write_all() -> None:
    from tests.harness import Templates

    with tempfile.TemporaryDirectory(prefix="noetl-pg-dump-") as tmp:
        pg = LocalPostgres(Path(tmp) / "pg")
        pg.start()
        try:
            templates = Templates(pg)
            SCHEMA_DIR.mkdir(exist_ok=True)
            for role in DUMP_ROLES:
                text = dump_database(pg, templates.template(role))
                (SCHEMA_DIR / f"{role}.sql").write_text(text)
                print(f"wrote {SCHEMA_DIR / f'{role}.sql'} ({len(text.splitlines())} lines)")
        finally:
            pg.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite tests/schema/*.sql")
    if not parser.parse_args().write:
        parser.print_help()
        sys.exit(2)
    write_all()
