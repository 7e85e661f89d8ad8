"""Session fixtures: a real private PostgreSQL cluster and a real NATS server on free loopback
ports, started through the same launcher as `make run`, torn down at the end of the session."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from noetl_pg.localstack import LocalNats, LocalPostgres
from tests.harness import Templates, TestDatabases


@pytest.fixture(scope="session")
def stack_dir() -> Iterator[Path]:
    # Short path under /tmp: the PostgreSQL socket path must stay under 107 characters.
    path = Path(tempfile.mkdtemp(prefix="noetl-pg-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server(stack_dir: Path) -> Iterator[LocalPostgres]:
    pg = LocalPostgres(stack_dir / "pg", durable=False)
    pg.start()
    yield pg
    pg.stop()


@pytest.fixture(scope="session")
def templates(pg_server: LocalPostgres) -> Templates:
    return Templates(pg_server)


@pytest.fixture(scope="session")
def nats_server(stack_dir: Path) -> Iterator[LocalNats]:
    nats = LocalNats(stack_dir / "nats")
    nats.start()
    yield nats
    nats.stop()


@pytest.fixture(scope="module")
def noetl_dbs(templates: Templates, request: pytest.FixtureRequest) -> Iterator[TestDatabases]:
    """A fresh cluster database and two shards (index 0 and 1 of 2), migrated, per test module."""
    dbs = templates.fresh_deployment(prefix="m")
    yield dbs
    templates.drop(*dbs.names)
