"""The Sanic application factory: settings, the key ring, per-process database pools and id
generator, the request rules of http-api §1.2-§1.4 and §1.9-§1.10, and the route families."""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import time
import uuid
from email.utils import formatdate
from typing import Any

from sanic import HTTPResponse, Request, Sanic
from sanic import exceptions as sanic_exc
from sanic.router import Route

from noetl_pg.crypto import KeyRing
from noetl_pg.ids import SnowflakeGenerator, machine_id_from_env
from noetl_pg.routing import ShardMap
from noetl_pg.settings import ServerSettings, Settings
from sanic_app.db import Databases
from sanic_app.errors import (
    ApiError, Forbidden, InvalidJson, MethodNotAllowed, NotFound, PayloadTooLarge, ServerFault,
    Unavailable,
)
from sanic_app.wire import dumps

log = logging.getLogger("noetl_pg.http")
VERSION = "0.1.0"
_WORKER_NAME = re.compile(r"Server-(\d+)-\d+$")
_EXPOSED = "Retry-After, X-Request-ID, Allow"
_METHODS = "GET, POST, PUT, DELETE, PATCH, OPTIONS"


def worker_ordinal() -> int:
    """This Sanic server process's number (0 for a single process), from SANIC_WORKER_NAME."""
    match = _WORKER_NAME.search(os.environ.get("SANIC_WORKER_NAME", ""))
    return int(match.group(1)) if match else 0


def create_app(settings: Settings, *, name: str = "noetl_pg") -> Sanic:
    """Build the app. Refuses (ConfigError) without an encryption key unless the insecure
    default is allowed (D7). Databases are opened per process before it serves."""
    server = settings.server
    keyring = KeyRing.from_settings(
        server.encryption_key, server.encryption_key_id, server.encryption_old_keys,
        allow_insecure_default=server.allow_insecure_default_key,
        allow_plaintext=server.credentials_allow_plaintext,
    )
    app = Sanic(name, strict_slashes=False, dumps=dumps)
    app.config.REQUEST_MAX_SIZE = max(
        server.max_body_bytes, server.result_max_body_bytes, server.project_max_body_bytes,
        server.batch_max_body_bytes, server.catalog_max_body_bytes, server.query_max_body_bytes,
    )
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.REQUEST_TIMEOUT = 300
    app.config.RESPONSE_TIMEOUT = max(300, server.sse_max_seconds + 60)
    app.ctx.settings = settings
    app.ctx.keyring = keyring
    app.ctx.started_at = time.time()
    app.ctx.db = None
    app.ctx.ids = None

    _install_lifecycle(app, settings)
    _install_request_rules(app, server)
    _install_blueprints(app, server)
    return app


def _install_lifecycle(app: Sanic, settings: Settings) -> None:
    @app.before_server_start
    async def open_databases(app: Sanic) -> None:
        app.ctx.keyring.warn_if_insecure()
        machine_id = machine_id_from_env(
            {"NOETL_SERVER_MACHINE_ID": str(settings.server.machine_id_base)}, worker_ordinal()
        )
        app.ctx.ids = SnowflakeGenerator(machine_id)
        database = settings.database
        shard_map = ShardMap(database.cluster_dsn, database.shard_dsns, min_size=database.min_size,
                             max_size=database.max_size, acquire_timeout=database.acquire_timeout)
        await shard_map.open()
        try:
            await shard_map.verify_identity()
        except BaseException:
            await shard_map.close()
            raise
        app.ctx.db = Databases(shard_map)

    @app.after_server_stop
    async def close_databases(app: Sanic) -> None:
        from sanic_app.routes.health import close_probe

        await close_probe(app)
        if app.ctx.db is not None:
            await app.ctx.db.map.close()
            app.ctx.db = None


def _install_request_rules(app: Sanic, server: ServerSettings) -> None:
    @app.on_request
    async def start(request: Request) -> None:
        request.ctx.started = time.perf_counter()
        request.ctx.request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.ctx.execution_id = None

    @app.signal("http.routing.after")
    async def before_body(request: Request, route: Route, **_: Any) -> None:
        # Runs before Sanic reads the body: internal auth first, then the route's size limit
        # (precedence of §1.5: routing -> auth -> 413 -> 400 -> 422).
        if getattr(route.ctx, "internal", False):
            _check_internal_token(request, server)
        limit = getattr(server, getattr(route.ctx, "limit", "max_body_bytes"))
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise PayloadTooLarge(limit)
        if request.stream is not None:
            request.stream.request_max_size = limit
        request.ctx.body_limit = limit

    @app.on_response
    async def finish(request: Request, response: HTTPResponse) -> None:
        decorate(request, response)

    app.error_handler.add(Exception, _handle_error)


def decorate(request: Request, response: HTTPResponse) -> None:
    """Request id, Date, CORS (§1.3) and the structured access log line (§1.2 rule 11)."""
    if getattr(request.ctx, "decorated", False):
        return
    request.ctx.decorated = True
    headers = response.headers
    request_id = getattr(request.ctx, "request_id", None) or uuid.uuid4().hex
    headers["X-Request-ID"] = request_id
    headers["Date"] = formatdate(usegmt=True)
    origin = request.headers.get("origin")
    headers["Access-Control-Allow-Origin"] = origin or "*"
    if origin:
        headers["Access-Control-Allow-Credentials"] = "true"
    headers["Vary"] = "Origin"
    headers["Access-Control-Expose-Headers"] = _EXPOSED
    if not log.isEnabledFor(logging.INFO):  # the line is built only when it will be written
        return
    started = getattr(request.ctx, "started", None)
    route = request.route.uri if request.route else None
    execution_id = getattr(request.ctx, "execution_id", None)
    if execution_id is None and request.route:
        execution_id = request.match_info.get("execution_id")
    log.info(json.dumps({
        "msg": "request", "request_id": request_id, "method": request.method, "route": route,
        "path": request.path, "status": response.status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3) if started else None,
        "execution_id": None if execution_id is None else str(execution_id),
    }))


def _preflight(request: Request) -> HTTPResponse:
    response = HTTPResponse(b"", status=200)
    response.headers["Access-Control-Allow-Methods"] = _METHODS
    response.headers["Access-Control-Allow-Headers"] = (
        request.headers.get("access-control-request-headers") or "*"
    )
    response.headers["Access-Control-Max-Age"] = "600"
    return response


def _as_api_error(request: Request, exc: BaseException) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, sanic_exc.MethodNotAllowed):
        allowed = sorted(exc.allowed_methods or [])
        return MethodNotAllowed(
            f"Method {request.method} is not allowed on {request.path}; allowed: {', '.join(allowed)}",
            headers={"Allow": ", ".join(allowed)},
        )
    if isinstance(exc, sanic_exc.NotFound):
        return NotFound(f"No route matches {request.method} {request.path}")
    if isinstance(exc, sanic_exc.PayloadTooLarge):
        limit = getattr(request.ctx, "body_limit", None) if request else None
        return PayloadTooLarge(int(limit or request.app.config.REQUEST_MAX_SIZE))
    if isinstance(exc, sanic_exc.BadRequest):
        return InvalidJson(f"Malformed request: {exc}")
    if isinstance(exc, sanic_exc.ServiceUnavailable):
        return Unavailable(str(exc) or "Service unavailable", code="db_unavailable", shard=None)
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return ServerFault("Internal server error")


def _handle_error(request: Request, exc: BaseException) -> HTTPResponse:
    if request.method == "OPTIONS" and isinstance(exc, (sanic_exc.NotFound, sanic_exc.MethodNotAllowed)):
        response = _preflight(request)
    else:
        error = _as_api_error(request, exc)
        response = HTTPResponse(dumps(error.body()), status=error.status, headers=error.headers,
                                content_type="application/json")
    decorate(request, response)
    return response


def _check_internal_token(request: Request, server: ServerSettings) -> None:
    """§1.10: unset token -> 503 (never permissive); bad scheme, empty or wrong token -> 403."""
    configured = (server.internal_api_token or "").strip()
    if not configured:
        raise Unavailable("NOETL_INTERNAL_API_TOKEN is not configured; the internal API is disabled",
                          code="internal_api_unconfigured", retry_after=30)
    header = request.headers.get("authorization", "")
    parts = header.strip().split(None, 1)
    if len(parts) != 2 or parts[0].lower() != "bearer" or not parts[1].strip():
        raise Forbidden("Authorization: Bearer <token> is required for /api/internal routes")
    if not hmac.compare_digest(parts[1].strip().encode(), configured.encode()):
        raise Forbidden("The bearer token does not match")


def _install_blueprints(app: Sanic, server: ServerSettings) -> None:
    from sanic_app.routes import catalog, credentials, dashboard, events, execute, executions, health
    from sanic_app.routes import internal, keychain, postgres, root, runtime, workers

    for module in (root, catalog, credentials, keychain, workers, runtime, health, postgres, dashboard,
                   executions, execute, events):
        app.blueprint(module.bp)
    app.blueprint(internal.bp)
    from sanic_app import openapi

    app.blueprint(openapi.bp)
    from sanic_app.routes import commands, results, sse, vars

    for module in (commands, vars, results, sse):
        app.blueprint(module.bp)
    if not server.disable_metrics:
        app.blueprint(root.metrics_bp)


def db(request: Request) -> Databases:
    """The process's databases; 503 before they are open."""
    databases = request.app.ctx.db
    if databases is None:
        raise Unavailable("The server is starting; databases are not open yet", shard=None)
    return databases
