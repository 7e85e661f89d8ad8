"""The worker's control-plane client (worker/client.py) against a small HTTP server on loopback:
what an answer carries, and that a transport failure or a timeout is status 0 rather than an
exception (the worker decides retries from the status)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

import pytest

from noetl_pg.localstack import free_port
from tests.unit.worker_fakes import loopback_server
from worker.client import CommandServer, ControlClient


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, code: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/query":
            self._send(200, json.dumps(dict(parse_qsl(url.query))).encode(), "application/json")
        elif url.path == "/text":
            self._send(200, b"not json \xff", "text/plain")
        elif url.path == "/empty":
            self._send(204, b"", "text/plain")
        elif url.path == "/slow":
            time.sleep(2)
            self._send(200, b"{}", "application/json")
        else:
            self._send(409, json.dumps({"detail": {"code": "active_claim", "message": "claimed by w1"}}).encode(),
                       "application/json", {"Retry-After": "2", "X-Request-ID": "r-1"})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        received = json.loads(self.rfile.read(length))
        self._send(200, json.dumps({"received": received, "content_type": self.headers.get("content-type")}).encode(),
                   "application/json")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with loopback_server(Handler) as url:
        yield url


async def test_a_json_body_is_sent_as_compact_utf8_json_and_the_answer_decoded(server: str) -> None:
    client = ControlClient()
    try:
        answer = await client.request("POST", f"{server}/echo", json_body={"worker_id": "w-é", "n": 1.5})
    finally:
        await client.close()
    assert answer.ok and answer.status == 200
    assert answer.body == {"received": {"worker_id": "w-é", "n": 1.5}, "content_type": "application/json"}


async def test_query_values_are_text_with_json_booleans_and_none_left_out(server: str) -> None:
    client = ControlClient()
    try:
        answer = await client.request("GET", f"{server}/query",
                                      params={"include_data": True, "full": False, "execution_id": 12, "skip": None})
    finally:
        await client.close()
    assert answer.body == {"include_data": "true", "full": "false", "execution_id": "12"}


async def test_an_error_answer_keeps_its_code_message_and_lower_cased_headers(server: str) -> None:
    client = ControlClient()
    try:
        answer = await client.request("GET", f"{server}/conflict")
    finally:
        await client.close()
    assert (answer.status, answer.ok, answer.code, answer.message) == (409, False, "active_claim", "claimed by w1")
    assert answer.retry_after() == 2.0 and answer.headers["x-request-id"] == "r-1"


async def test_a_body_that_is_not_json_is_text_and_an_empty_body_is_none(server: str) -> None:
    client = ControlClient()
    try:
        text = await client.request("GET", f"{server}/text")
        empty = await client.request("GET", f"{server}/empty")
    finally:
        await client.close()
    assert text.status == 200 and text.body == "not json \ufffd"
    assert empty.status == 204 and empty.body is None


async def test_a_refused_connection_is_status_0_with_the_reason() -> None:
    client = ControlClient()
    try:
        answer = await client.request("POST", f"http://127.0.0.1:{free_port()}/api/events", json_body={})
    finally:
        await client.close()
    assert answer.status == 0 and not answer.ok
    assert answer.error and "Connect" in answer.error and answer.message == answer.error


async def test_a_timeout_is_status_0_and_the_client_stays_usable(server: str) -> None:
    client = ControlClient()
    try:
        slow = await client.request("GET", f"{server}/slow", timeout=0.3)
        after = await client.request("GET", f"{server}/query", params={"a": "b"})
    finally:
        await client.close()
    assert slow.status == 0 and "Timeout" in (slow.error or "")
    assert after.body == {"a": "b"}


async def test_a_tool_sees_transport_failures_as_connection_errors() -> None:
    client = ControlClient()
    try:
        with pytest.raises(ConnectionError):
            await CommandServer(client, f"http://127.0.0.1:{free_port()}").call("GET", "/api/health")
    finally:
        await client.close()
