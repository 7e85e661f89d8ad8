"""Shared benchmark plumbing: a private cluster, pgbench runs, and the recorded results.

Every figure is measured in one run on this machine; later benchmarks report ratios against
the plain-insert baseline measured in the same run, never against a number from another day.
"""

from __future__ import annotations

import glob
import json
import os
import platform
import re
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from noetl_pg.localstack import LocalPostgres
from noetl_pg.migrate import Migrator, Target

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
RESULTS_MD = BENCH_DIR / "RESULTS.md"
_TPS = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)


@dataclass
class LoadFigure:
    clients: int
    seconds: float  # the load's length (computed from tps for a fixed transaction count)
    transactions: int
    tps: float
    p50_ms: float
    p99_ms: float


@contextmanager
def bench_database(name: str = "bench", *, durable: bool = True) -> Iterator[LocalPostgres]:
    """A private cluster (durable settings, as `make run` uses) with one migrated database."""
    with tempfile.TemporaryDirectory(prefix="noetl-pg-bench-") as tmp:
        pg = LocalPostgres(Path(tmp) / "pg", durable=durable)
        pg.start()
        try:
            pg.create_database(name)
            Migrator([Target(pg.dsn(name), True, True, 0, 1)], say=lambda _m: None).run()
            yield pg
        finally:
            pg.stop()


def pgbench(pg: LocalPostgres, dbname: str, script: str, *, clients: int, seconds: int,
            defines: dict[str, int | str] | None = None, transactions: int | None = None) -> LoadFigure:
    """Run a custom pgbench script for `seconds`, or `transactions` per client when given; tps from
    pgbench, latency percentiles from its per-transaction log."""
    with tempfile.TemporaryDirectory(prefix="pgbench-") as tmp:
        script_file = Path(tmp) / "script.sql"
        script_file.write_text(script)
        prefix = Path(tmp) / "tx"
        args = [str(pg.bindir / "pgbench"), "-n", "-f", str(script_file), "-c", str(clients),
                "-j", str(min(clients, os.cpu_count() or 1)),
                *(["-t", str(transactions)] if transactions else ["-T", str(seconds)]),
                "-l", f"--log-prefix={prefix}"]
        for key, value in (defines or {}).items():
            args += ["-D", f"{key}={value}"]
        # pgbench takes the database (a conninfo string is fine) as its last positional argument;
        # its -d is --debug.
        args.append(pg.dsn(dbname))
        proc = subprocess.run(args, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"pgbench failed: {proc.stderr.strip()[-500:]}")
        latencies_us: list[int] = []
        for log in glob.glob(f"{prefix}.*"):
            with open(log) as fh:
                latencies_us.extend(int(line.split()[2]) for line in fh if line.strip())
    latencies_us.sort()
    match = _TPS.search(proc.stdout)
    if not latencies_us or not match:
        raise RuntimeError(f"pgbench reported nothing: {proc.stdout[-500:]}")

    def pct(p: float) -> float:
        return latencies_us[min(len(latencies_us) - 1, int(p * len(latencies_us)))] / 1000.0

    elapsed = seconds if not transactions else len(latencies_us) / float(match.group(1))
    return LoadFigure(clients, elapsed, len(latencies_us), float(match.group(1)), pct(0.50), pct(0.99))


def record(name: str, figures: dict, summary: str) -> Path:
    """Write bench/results/<name>.json and add one line to bench/RESULTS.md."""
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    payload = {"benchmark": name, "recorded_at": stamp, "machine": _machine(), "figures": figures}
    out = RESULTS_DIR / f"{name}.json"
    out.write_text(json.dumps(payload, indent=2, default=_plain) + "\n")
    if not RESULTS_MD.exists():
        RESULTS_MD.write_text("# Benchmark results\n\nOne line per run of `make bench`, newest last.\n\n")
    with RESULTS_MD.open("a") as fh:
        fh.write(f"- {stamp} `{name}` ({payload['machine']}): {summary}\n")
    return out


def _machine() -> str:
    return f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"


def _plain(value: object) -> object:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)  # type: ignore[arg-type]
    raise TypeError(f"cannot serialise {type(value).__name__}")
