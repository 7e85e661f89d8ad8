"""Named queries: every SQL statement the Python code runs lives in sql/<area>.sql.

A file holds blocks opened by `-- name: <query_name>` and a one-line `-- <description>`;
the statement runs until the next `-- name:` line. Parameters use psycopg's %(name)s style.
"""

from __future__ import annotations

import re
from functools import cache

from noetl_pg.paths import SQL_DIR

_NAME_LINE = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$")


class Queries:
    """The named queries of one area; `Queries.load("migrate").applied` is the SQL text."""

    def __init__(self, area: str, statements: dict[str, str], descriptions: dict[str, str]) -> None:
        self.area = area
        self._statements = statements
        self.descriptions = descriptions

    @staticmethod
    @cache
    def load(area: str) -> "Queries":
        return Queries.parse(area, (SQL_DIR / f"{area}.sql").read_text())

    @staticmethod
    def parse(area: str, text: str) -> "Queries":
        statements: dict[str, str] = {}
        descriptions: dict[str, str] = {}
        current: str | None = None
        body: list[str] = []

        def close() -> None:
            if current is not None:
                sql = "\n".join(body).strip()
                if not sql:
                    raise ValueError(f"sql/{area}.sql: query {current!r} has no statement")
                statements[current] = sql

        for line in text.splitlines():
            match = _NAME_LINE.match(line.strip())
            if match:
                close()
                current, body = match.group(1), []
                if current in statements:
                    raise ValueError(f"sql/{area}.sql: query {current!r} is defined twice")
                continue
            if current is None:
                continue
            if not body and current not in descriptions and line.startswith("--"):
                descriptions[current] = line.lstrip("-").strip()
                continue
            body.append(line)
        close()
        missing = sorted(set(statements) - set(descriptions))
        if missing:
            raise ValueError(f"sql/{area}.sql: queries without a description line: {', '.join(missing)}")
        return Queries(area, statements, descriptions)

    def __getattr__(self, name: str) -> str:
        try:
            return self._statements[name]
        except KeyError:
            raise AttributeError(f"sql/{self.area}.sql has no query named {name!r}") from None

    def names(self) -> list[str]:
        return sorted(self._statements)
