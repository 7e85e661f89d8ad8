"""The http tool (worker-protocol §4.2) against a small HTTP server on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.unit.worker_fakes import loopback_server
from worker.settings import WorkerSettings
from worker.tools import run_tool
from worker.tools.base import Credential, ToolContext


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet
        pass

    def _answer(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if url.path == "/status":
            code = int(parse_qs(url.query)["code"][0])
            self.send_response(code)
            if code == 429:
                self.send_header("Retry-After", "3")
            self.send_header("content-type", "text/plain")
            self.end_headers()
            self.wfile.write(b"busy")
            return
        if url.path == "/text":
            self.send_response(200)
            self.send_header("content-type", "text/plain")
            self.end_headers()
            self.wfile.write(b"just text")
            return
        echo = {"method": self.command, "path": url.path, "query": parse_qs(url.query), "body": body,
                "content_type": self.headers.get("content-type"), "auth": self.headers.get("authorization"),
                "x_api_key": self.headers.get("x-api-key"), "x_n": self.headers.get("x-n")}
        data = json.dumps(echo).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("X-Custom", "Yes")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with loopback_server(Handler) as url:
        yield url


class Creds:
    async def fetch(self, alias: str) -> Credential:
        table = {"tok": Credential("tok", "bearer", {"token": "abcdef-token"}),
                 "bas": Credential("bas", "basic", {"username": "u", "password": "p"}),
                 "key": Credential("key", "api_key", {"api_key": "k-123456"}),
                 "pg": Credential("pg", "postgres", {"host": "h"})}
        return table[alias]


def ctx() -> ToolContext:
    return ToolContext(settings=WorkerSettings(worker_id="w-test"), execution_id=1, step="fetch", credentials=Creds())


async def test_get_with_params_data_and_body_both_hold_the_response(server: str) -> None:
    r = await run_tool("http", {"url": f"{server}/items", "params": {"page": 1, "tags": ["a", "b"], "skip": None,
                                                                      "flag": True}}, ctx())
    assert r.status == "success"
    d = r.data
    assert d["status_code"] == 200 and d["data"] == d["body"] and d["headers"]["x-custom"] == "Yes"
    assert d["data"]["query"] == {"page": ["1"], "tags": ["a", "b"], "flag": ["true"]}
    assert d["url"].startswith(f"{server}/items?") and isinstance(d["elapsed"], float)


async def test_json_body_and_header_coercion(server: str) -> None:
    r = await run_tool("http", {"url": f"{server}/x", "method": "post", "json": {"a": [1]},
                                "headers": {"X-N": 5, "X-Null": None}}, ctx())
    echo = r.data["data"]
    assert echo["method"] == "POST" and json.loads(echo["body"]) == {"a": [1]}
    assert echo["content_type"] == "application/json" and echo["x_n"] == "5"


async def test_raw_string_body_form_and_legacy_data(server: str) -> None:
    raw = (await run_tool("http", {"url": f"{server}/x", "method": "PUT", "body": "raw text"}, ctx())).data["data"]
    assert raw["body"] == "raw text"
    form = (await run_tool("http", {"url": f"{server}/x", "method": "POST", "form": {"a": 1, "b": "x y"}}, ctx())).data["data"]
    assert form["body"] == "a=1&b=x+y" and form["content_type"] == "application/x-www-form-urlencoded"
    legacy = (await run_tool("http", {"url": f"{server}/x", "data": {"q": "v"}}, ctx())).data["data"]
    assert legacy["query"] == {"q": ["v"]}
    split = (await run_tool("http", {"url": f"{server}/x", "method": "POST",
                                     "data": {"query": {"p": 2}, "body": {"k": 1}}}, ctx())).data["data"]
    assert split["query"] == {"p": ["2"]} and json.loads(split["body"]) == {"k": 1}


async def test_credentials_become_headers(server: str) -> None:
    c = ctx()
    bearer = (await run_tool("http", {"url": f"{server}/x", "auth": "tok"}, c)).data["data"]
    assert bearer["auth"] == "Bearer abcdef-token" and "abcdef-token" in c.secrets
    basic = (await run_tool("http", {"url": f"{server}/x", "auth": {"type": "basic", "credential": "bas"}}, ctx())).data["data"]
    assert basic["auth"] == "Basic dTpw"
    key = (await run_tool("http", {"url": f"{server}/x", "credential": "key"}, ctx())).data["data"]
    assert key["x_api_key"] == "k-123456"
    own = (await run_tool("http", {"url": f"{server}/x", "auth": "tok", "headers": {"Authorization": "mine"}}, ctx()))
    assert own.data["data"]["auth"] == "mine"
    wrong = await run_tool("http", {"url": f"{server}/x", "auth": "pg"}, ctx())
    assert wrong.status == "error" and wrong.error_info["kind"] == "auth"


async def test_non_2xx_is_an_error_that_keeps_the_response(server: str) -> None:
    r = await run_tool("http", {"url": f"{server}/status?code=503"}, ctx())
    assert r.status == "error" and r.error == "HTTP 503: Service Unavailable"
    assert r.data["status_code"] == 503 and r.data["data"] == "busy" and r.data["body"] == "busy"
    assert r.error_info == {"kind": "server_error", "retryable": True, "code": "HTTP_503",
                            "message": "HTTP 503: Service Unavailable", "source": "http", "status": 503,
                            "http_status": 503}
    limited = await run_tool("http", {"url": f"{server}/status?code=429"}, ctx())
    assert limited.error_info["kind"] == "rate_limit" and limited.error_info["retry_after"] == 3.0
    assert (await run_tool("http", {"url": f"{server}/status?code=404"}, ctx())).error_info["kind"] == "not_found"
    assert (await run_tool("http", {"url": f"{server}/status?code=403"}, ctx())).error_info["kind"] == "auth"
    assert (await run_tool("http", {"url": f"{server}/status?code=422"}, ctx())).error_info["kind"] == "client_error"


async def test_text_and_binary_responses(server: str) -> None:
    assert (await run_tool("http", {"url": f"{server}/text"}, ctx())).data["data"] == "just text"
    b = (await run_tool("http", {"url": f"{server}/text", "response_type": "binary"}, ctx())).data["data"]
    assert b == {"base64": "anVzdCB0ZXh0", "size": 9}


async def test_connection_refused_is_a_connection_error() -> None:
    r = await run_tool("http", {"url": "http://127.0.0.1:1/x", "timeout": 2}, ctx())
    assert r.status == "error" and r.data is None
    assert r.error_info["kind"] == "connection" and r.error_info["code"] == "CONN_ERROR"


async def test_missing_url_is_a_config_error() -> None:
    r = await run_tool("http", {"method": "GET"}, ctx())
    assert r.status == "error" and r.error_info["kind"] == "config"
