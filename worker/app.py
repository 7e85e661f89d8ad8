"""`noetl-pg worker`: run the reference worker in the foreground until SIGTERM/SIGINT; a second
signal exits at once with 130 (worker-protocol §3.12)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from noetl_pg import aio
from noetl_pg.settings import log_level
from worker.loop import Worker
from worker.settings import WorkerSettings


class _JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from bridge.logs import JsonFormatter  # one JSON line format for every noetl-pg process
        return JsonFormatter().format(record)


def configure_logging(level: int = logging.INFO) -> None:
    logger = logging.getLogger("noetl.worker")
    if any(getattr(h, "_noetl_worker", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonLines())
    handler._noetl_worker = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def _metrics(bind: str | None) -> None:
    if not bind:
        return
    from prometheus_client import start_http_server
    host, _, port = bind.rpartition(":")
    start_http_server(int(port), addr=host or "127.0.0.1")


async def _main(settings: WorkerSettings) -> None:
    worker = Worker(settings)
    loop = asyncio.get_running_loop()
    signals = {"count": 0}

    def on_signal() -> None:
        signals["count"] += 1
        if signals["count"] > 1:
            os._exit(130)
        worker.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    await worker.run()


def run() -> int:
    configure_logging(log_level())
    settings = WorkerSettings.from_env()
    _metrics(os.environ.get("NOETL_WORKER_METRICS_BIND"))
    aio.run(_main(settings))
    return 0
