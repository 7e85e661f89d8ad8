"""Root routes (§1.1, §2.14.1, §2.14.4): the banner, liveness and Prometheus metrics."""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request

from sanic_app.metrics import CONTENT_TYPE, exposition
from sanic_app.wire import reply

bp = Blueprint("root")
metrics_bp = Blueprint("metrics")


@bp.get("/")
async def banner(request: Request) -> HTTPResponse:
    from sanic_app.app import VERSION

    return reply({"message": "NoETL API is running", "version": VERSION})


@bp.route("/health", methods=["GET", "HEAD"])
async def liveness(request: Request) -> HTTPResponse:
    return reply({"status": "ok"})


@metrics_bp.route("/metrics", methods=["GET", "HEAD"])
async def metrics(request: Request) -> HTTPResponse:
    return HTTPResponse(exposition(), content_type=CONTENT_TYPE)
