"""A scripted stand-in for the control plane's worker-facing routes (register, heartbeat,
deregister, claim, events, batch, result store, cancellation check), for testing the worker's
protocol loop against every answer the server may give. NATS is real in those tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@contextmanager
def loopback_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` served by a threaded HTTP server on a free loopback port; yields its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def error(status: int, code: str, message: str = "", headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"detail": {"code": code, "message": message or code}, "error": message or code,
                          "status": status}, headers or {})


class FakeControlPlane:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.commands: dict[int, dict[str, Any]] = {}          # event_id -> claim body
        self.scripts: dict[str, list[Reply]] = {}              # "METHOD path" -> replies used in order
        self.cancelled: set[int] = set()
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                req = Request(self.command, url.path, parse_qs(url.query),
                              {k.lower(): v for k, v in self.headers.items()}, body)
                reply = fake.answer(req)
                data = json.dumps(reply.body).encode() if reply.body is not None else b""
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()

    # -- scripting ------------------------------------------------------------------------

    def script(self, method: str, path: str, *replies: Reply) -> None:
        with self.lock:
            self.scripts.setdefault(f"{method} {path}", []).extend(replies)

    def add_command(self, execution_id: int, event_id: int, step: str, tool_config: Any, *,
                    action: str | None = None, meta: dict[str, Any] | None = None,
                    render_context: dict[str, Any] | None = None) -> dict[str, Any]:
        command_id = f"{execution_id}:{step}:{event_id}"
        body = {"status": "ok", "event_id": event_id, "execution_id": execution_id, "node_id": step,
                "node_name": step,
                "action": action or (tool_config.get("kind") if isinstance(tool_config, dict) else "task_sequence"),
                "context": {"tool_config": tool_config, "args": {}, "input": {},
                            "render_context": render_context or {"execution_id": str(execution_id)}},
                "meta": {"command_id": command_id, "step": step, "attempt": 1, "execution_id": str(execution_id),
                         "catalog_id": "1", "actionable": True, **(meta or {})}}
        self.commands[event_id] = body
        return {"execution_id": execution_id, "event_id": event_id, "command_id": command_id, "step": step,
                "server_url": self.url}

    # -- reading --------------------------------------------------------------------------

    def seen(self, method: str, path_part: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method == method and path_part in r.path]

    def events(self, execution_id: int | None = None) -> list[tuple[dict[str, Any], Request]]:
        """Every event item posted (single or in batches), with the request that carried it."""
        out = []
        with self.lock:
            for r in self.requests:
                if r.method != "POST" or not r.path.startswith("/api/events"):
                    continue
                items = r.body["events"] if r.path.endswith("/batch") else [r.body]
                if execution_id is not None and int(r.body["execution_id"]) != execution_id:
                    continue
                out.extend((item, r) for item in items)
        return out

    # -- answering ------------------------------------------------------------------------

    def answer(self, req: Request) -> Reply:
        with self.lock:
            self.requests.append(req)
            queue = self.scripts.get(f"{req.method} {req.path}")
            if queue:
                return queue.pop(0)
        parts = req.path.strip("/").split("/")
        if req.path == "/api/worker/pool/register":
            return Reply(200, {"status": "ok", "name": req.body["name"]})
        if req.path in ("/api/worker/pool/heartbeat", "/api/worker/pool/deregister"):
            return Reply(200, {"status": "ok"})
        if parts[:2] == ["api", "commands"] and parts[-1] == "claim":
            body = self.commands.get(int(parts[2]))
            return Reply(200, body) if body else error(404, "command_not_found")
        if req.path == "/api/events":
            return Reply(200, {"status": "ok", "event_id": len(self.requests), "commands_generated": 0})
        if req.path == "/api/events/batch":
            return Reply(202, {"status": "accepted", "event_ids": [1, 2], "duplicate": False})
        if parts[:2] == ["api", "result"] and req.method == "PUT":
            return Reply(200, {"ref": f"noetl://execution/{parts[2]}/result/{req.body['name']}/77", "store": "db",
                               "scope": "execution", "expires_at": None, "bytes": 123, "sha256": "ab"})
        if parts[:2] == ["api", "executions"] and parts[-1] == "cancellation-check":
            cancelled = int(parts[2]) in self.cancelled
            return Reply(200, {"execution_id": parts[2], "cancelled": cancelled, "is_cancelled": cancelled})
        return error(404, "route_not_found")
