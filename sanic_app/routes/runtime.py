"""Runtime route (http-api §2.10): the shard function as a drift guard for the gateway's twin."""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request

from noetl_pg.routing import shard_for
from sanic_app.app import db
from sanic_app.wire import Fields, reply

bp = Blueprint("runtime", url_prefix="/api/runtime")


@bp.get("/shard-info")
async def shard_info(request: Request) -> HTTPResponse:
    query = Fields.query(request)
    execution_id = query.id("execution_id", required=True)
    shard_count = query.integer("shard_count", required=True, low=1, high=1024)
    query.check()
    assert execution_id is not None and shard_count is not None
    server = request.app.ctx.settings.server
    return reply({
        "execution_id": str(execution_id), "shard_count": shard_count,
        "shard_index": shard_for(execution_id, shard_count), "source": "noetl-server",
        "hash_function": "twox_hash::XxHash64", "seed": 0,
        "server_config": {"shard_index": server.shard_index, "shard_count": server.shard_count,
                          "database_shards": db(request).shard_count},
    })
