"""Request rules every route shares (http-api §1.2-§1.4, §1.9): the error body, unknown routes
and methods, CORS, request ids, body parsing and size limits, and the startup refusal (D7)."""

from __future__ import annotations

import pytest

from noetl_pg.errors import ConfigError
from sanic_app.app import create_app
from tests.api.conftest import Api, assert_error, settings_for


async def test_banner_and_liveness(api: Api) -> None:
    response = await api.client.get("/")
    assert response.status_code == 200
    assert response.json()["message"] == "NoETL API is running"
    assert (await api.client.get("/health")).json() == {"status": "ok"}
    assert (await api.client.head("/health")).status_code == 200


async def test_unknown_route_is_404_route_not_found(api: Api) -> None:
    detail = assert_error(await api.client.get("/api/nope"), 404, "route_not_found")
    assert "/api/nope" in detail["message"]


async def test_p2_routes_not_served_answer_404_with_the_error_body(api: Api) -> None:
    for path in ("/api/threads", "/api/auth-cache/x", "/api/temp/x", "/api/mcp/servers"):
        assert_error(await api.client.get(path), 404, "route_not_found")


async def test_wrong_method_is_405_with_allow(api: Api) -> None:
    response = await api.client.get("/api/catalog/register")
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"
    response = await api.client.delete("/api/worker/pools")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


async def test_trailing_slash_is_the_same_route(api: Api) -> None:
    assert (await api.client.get("/api/worker/pools/")).status_code == 200
    assert (await api.client.get("/api/worker/pools")).status_code == 200


async def test_cors_headers_echo_the_origin(api: Api) -> None:
    response = await api.client.get("/health", headers={"Origin": "http://gui.local"})
    assert response.headers["access-control-allow-origin"] == "http://gui.local"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "Retry-After" in response.headers["access-control-expose-headers"]
    plain = await api.client.get("/health")
    assert plain.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in plain.headers


async def test_preflight_on_any_path_is_200_empty(api: Api) -> None:
    response = await api.client.options("/api/executions/1/cancel", headers={
        "Origin": "http://gui.local", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-request-id"})
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["access-control-allow-headers"] == "content-type,x-request-id"
    assert response.headers["access-control-max-age"] == "600"
    assert "DELETE" in response.headers["access-control-allow-methods"]


async def test_request_id_is_echoed_or_generated(api: Api) -> None:
    response = await api.client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = (await api.client.get("/health")).headers["x-request-id"]
    assert len(generated) == 32
    assert "date" in (await api.client.get("/health")).headers


async def test_body_that_is_not_json_is_400_invalid_json(api: Api) -> None:
    response = await api.client.post("/api/credentials", content=b"{not json",
                                     headers={"content-type": "text/plain"})
    assert_error(response, 400, "invalid_json")
    assert_error(await api.client.post("/api/credentials", content=b"\xff\xfe"), 400, "invalid_json")


async def test_body_that_is_not_an_object_is_422(api: Api) -> None:
    detail = assert_error(await api.client.post("/api/credentials", content=b"[1, 2]"), 422, "validation_error")
    assert detail["errors"][0]["loc"] == ["body"]


async def test_empty_body_for_a_required_field_route_is_422(api: Api) -> None:
    assert_error(await api.client.post("/api/credentials"), 422, "validation_error")


async def test_body_over_the_route_limit_is_413_before_parsing(api: Api) -> None:
    limit = api.app.ctx.settings.server.query_max_body_bytes
    response = await api.client.post("/api/postgres/execute", content=b"x" * (limit + 1))
    detail = assert_error(response, 413, "payload_too_large")
    assert detail["limit_bytes"] == limit
    big = api.app.ctx.settings.server.max_body_bytes
    detail = assert_error(await api.client.post("/api/credentials", content=b" " * (big + 1)), 413,
                          "payload_too_large")
    assert detail["limit_bytes"] == big


async def test_chunked_body_over_the_limit_is_413(api: Api) -> None:
    limit = api.app.ctx.settings.server.query_max_body_bytes

    async def chunks():
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    response = await api.client.post("/api/postgres/execute", content=chunks())
    assert_error(response, 413, "payload_too_large")


def test_the_server_refuses_to_start_without_an_encryption_key(noetl_dbs, nats_server) -> None:
    settings = settings_for(noetl_dbs, nats_server.url, NOETL_ENCRYPTION_KEY="")
    with pytest.raises(ConfigError, match="NOETL_ENCRYPTION_KEY"):
        create_app(settings, name="noetl_no_key")
    insecure = settings_for(noetl_dbs, nats_server.url, NOETL_ENCRYPTION_KEY="",
                             NOETL_ALLOW_INSECURE_DEFAULT_KEY="true")
    assert create_app(insecure, name="noetl_insecure").ctx.keyring.insecure


async def test_metrics_are_prometheus_text_with_the_pinned_names(api: Api) -> None:
    await api.client.post("/api/worker/pool/register", json={"name": "metrics-probe"})
    response = await api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = response.text
    assert 'noetl_write_requests_total{endpoint="runtime_register",status="ok"}' in text
    assert "noetl_write_request_duration_seconds_bucket" in text
    assert (await api.client.head("/metrics")).status_code == 200
