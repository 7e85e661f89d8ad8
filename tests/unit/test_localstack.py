"""The embedded local stack: private PostgreSQL and NATS, started and stopped for real."""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from noetl_pg.errors import UserError
from noetl_pg.localstack import LocalNats, LocalPostgres, find_pg_bindir


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    # Socket paths are limited to 107 bytes, so keep the cluster folders short.
    path = Path(tempfile.mkdtemp(prefix="npg-"))
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


def test_pg_server_runs_unprivileged(pg_server: LocalPostgres) -> None:
    pid = int((pg_server.data_dir / "postmaster.pid").read_text().splitlines()[0])
    owner = os.stat(f"/proc/{pid}").st_uid
    assert owner != 0, "PostgreSQL must never run as root"
    expected = pwd.getpwnam(pg_server.os_user).pw_uid if pg_server.os_user else os.geteuid()
    assert owner == expected


def test_socket_directory_is_inside_the_cluster_folder(pg_server: LocalPostgres) -> None:
    assert (pg_server.socket_dir / f".s.PGSQL.{pg_server.port}").exists()
    with psycopg.connect(f"host={pg_server.socket_dir} port={pg_server.port} user=noetl dbname=postgres") as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_existing_data_directory_is_reused(short_tmp: Path) -> None:
    pg = LocalPostgres(short_tmp / "pg")
    pg.start()
    try:
        pg.create_database("kept")
        version_stamp = (pg.data_dir / "PG_VERSION").stat().st_mtime_ns
    finally:
        pg.stop()
    assert not (pg.data_dir / "postmaster.pid").exists(), "stop() shuts the cluster down"

    again = LocalPostgres(short_tmp / "pg")
    again.start()
    try:
        assert (again.data_dir / "PG_VERSION").stat().st_mtime_ns == version_stamp
        assert again.psql("postgres", "SELECT count(*) FROM pg_database WHERE datname = 'kept'").strip() == "1"
    finally:
        again.stop()


def test_requested_port_in_use_is_a_clear_error(short_tmp: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UserError, match=rf"PostgreSQL port {port} on 127.0.0.1 is already in use"):
            LocalPostgres(short_tmp / "pg", port=port).start()
        with pytest.raises(UserError, match=rf"NATS port {port} on 127.0.0.1 is already in use"):
            LocalNats(short_tmp / "nats", port=port).start()


def test_missing_postgres_binaries_name_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"no PostgreSQL >= 15 server binaries found .* install Debian's 'postgresql'"):
        find_pg_bindir([tmp_path / "no-such-bin"])


def test_nats_server_has_jetstream(nats_server: LocalNats) -> None:
    import json
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{nats_server.monitor_port}/jsz", timeout=5) as resp:
        info = json.load(resp)
    assert "config" in info and info["config"]["store_dir"].startswith(str(nats_server.base_dir))
    with socket.create_connection(("127.0.0.1", nats_server.port), timeout=5) as conn:
        assert conn.recv(4096).startswith(b"INFO ")


def _wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"{needle!r} not printed; output so far:\n{''.join(seen)}")


def test_run_brings_up_two_shards_and_stops_on_ctrl_c(short_tmp: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "noetl_pg.cli", "run", "--shards", "2", "--state-dir", str(short_tmp)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        output = _wait_for_line(proc, "press Ctrl-C", timeout=120)
        shard1 = next(line.split(None, 2)[2].strip() for line in output.splitlines()
                      if line.startswith("  shard 1 ") and "host=" in line)
        with psycopg.connect(shard1) as conn:
            tables = {r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'noetl'")}
            identity = conn.execute("SELECT shard_index, shard_count, is_cluster FROM noetl.shard_info").fetchone()
        assert {"event", "execution", "command", "outbox"} <= tables
        assert "catalog" not in tables, "a shard-only database holds no cluster tables"
        assert identity == (1, 2, False)
        assert "NATS (JetStream)   nats://127.0.0.1:" in output
        assert (short_tmp / "stack.json").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, rest
    assert "stopping the local stack" in rest
    assert not (short_tmp / "pg" / "data" / "postmaster.pid").exists()
    assert not (short_tmp / "stack.json").exists()


def test_restart_keeps_the_previous_port_when_free(short_tmp: Path) -> None:
    first = LocalPostgres(short_tmp / "pg")
    first.start()
    port = first.port
    first.stop()
    again = LocalPostgres(short_tmp / "pg")
    again.start()
    try:
        assert again.port == port
    finally:
        again.stop()
