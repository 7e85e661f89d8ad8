"""Dashboard routes (http-api §2.16, §2.17): counters over every shard plus the cluster's
playbooks and live workers, and the GUI's static widget list."""

from __future__ import annotations

import asyncio

from sanic import Blueprint, HTTPResponse, Request

from noetl_pg.queries import Queries
from sanic_app.app import db
from sanic_app.routes.executions import execution_item, newest_executions
from sanic_app.wire import reply

bp = Blueprint("dashboard", url_prefix="/api/dashboard")
EXECUTIONS = Queries.load("executions")
RUNTIME = Queries.load("runtime")
WIDGETS = [
    {"id": "execution_stats", "type": "metric", "title": "Execution statistics",
     "description": "Executions by status", "config": {}},
    {"id": "recent_executions", "type": "table", "title": "Recent executions",
     "description": "The newest executions", "config": {"limit": 10}},
    {"id": "execution_trend", "type": "chart", "title": "Execution trend",
     "description": "Executions over time", "config": {"timeRange": "24h", "chartType": "line"}},
    {"id": "success_rate", "type": "metric", "title": "Success rate",
     "description": "Completed among finished executions", "config": {}},
    {"id": "active_playbooks", "type": "list", "title": "Active playbooks",
     "description": "Playbooks with running executions", "config": {"limit": 5}},
]


@bp.get("/stats")
async def stats(request: Request) -> HTTPResponse:
    databases = db(request)
    settings = request.app.ctx.settings.server
    timeout = settings.list_statement_timeout_ms
    counts, playbooks, workers, recent = await asyncio.gather(
        databases.fan_out(EXECUTIONS.status_counts, statement_timeout_ms=timeout),
        databases.one(None, RUNTIME.playbook_count, statement_timeout_ms=timeout),
        databases.one(None, RUNTIME.live_workers, {"stale_seconds": settings.runtime_stale_seconds},
                      statement_timeout_ms=timeout),
        newest_executions(request, 10),
    )
    total = {key: sum(int(rows[0][key]) for rows in counts) for key in
             ("total", "completed", "failed", "cancelled", "running")}
    finished = total["completed"] + total["failed"] + total["cancelled"]
    numbers = {
        "total_executions": total["total"], "successful_executions": total["completed"],
        "failed_executions": total["failed"], "cancelled_executions": total["cancelled"],
        "running_executions": total["running"], "active_workflows": total["running"],
        "total_playbooks": int(playbooks["playbooks"]) if playbooks else 0,
        "total_workers": int(workers["workers"]) if workers else 0,
    }
    return reply({
        "status": "ok", "stats": numbers, **numbers, "active_executions": total["running"],
        "success_rate": round(total["completed"] / finished * 100, 1) if finished else 0,
        "recent_executions": [execution_item(r, redact_reads=settings.redact_reads) for r in recent],
    })


@bp.get("/widgets")
async def widgets(request: Request) -> HTTPResponse:
    return reply({"widgets": WIDGETS})
