"""`noetl-pg serve`: the HTTP server with every setting of http-api §1.15, in NOETL_SERVER_WORKERS
Sanic processes. Each process opens its own pools and mints ids with machine id base + ordinal."""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
from functools import partial

from noetl_pg.crypto import KeyRing
from noetl_pg.errors import ConfigError
from noetl_pg.migrate import ensure_current, targets_from_config
from noetl_pg.settings import Settings, log_level


def serve(host: str | None = None, port: int | None = None, workers: int | None = None) -> int:
    settings = Settings.from_env()
    server = dataclasses.replace(
        settings.server,
        host=host if host is not None else settings.server.host,
        port=port if port is not None else settings.server.port,
        workers=workers if workers is not None else settings.server.workers,
    )
    if server.machine_id_base + server.workers - 1 > 511:
        raise ConfigError(f"NOETL_SERVER_MACHINE_ID={server.machine_id_base} with {server.workers} workers"
                          " gives machine ids above 511")
    # Fail here, once, with the reason, rather than in every worker process (D7).
    KeyRing.from_settings(server.encryption_key, server.encryption_key_id, server.encryption_old_keys,
                          allow_insecure_default=server.allow_insecure_default_key)
    settings = dataclasses.replace(settings, server=server)
    # Before any worker process starts: databases behind this build are refused, or migrated
    # when NOETL_AUTO_MIGRATE is set (data-model §1.6).
    ensure_current(targets_from_config(settings.database), auto_migrate=server.auto_migrate,
                   outbox_gate_keys=settings.outbox_gate_keys)
    logging.basicConfig(level=log_level(), format="%(message)s")

    # /metrics aggregates every worker process through prometheus_client's multiprocess mode;
    # the directory must exist before the worker processes import prometheus_client.
    metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    own_dir = None
    if not metrics_dir:
        own_dir = metrics_dir = tempfile.mkdtemp(prefix="noetl-pg-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir

    from sanic import Sanic
    from sanic.worker.loader import AppLoader

    from sanic_app.app import create_app

    try:
        loader = AppLoader(factory=partial(create_app, settings))
        app = loader.load()
        app.prepare(host=server.host, port=server.port, workers=server.workers, access_log=False,
                    motd=False)
        Sanic.serve(primary=app, app_loader=loader)
    finally:
        if own_dir:
            shutil.rmtree(own_dir, ignore_errors=True)
    return 0
