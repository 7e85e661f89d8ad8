"""A small HTTP server on loopback for the http-tool tests: answers the workers' requests from a
thread of the test process and remembers what it was asked.

Routes (all answer JSON):
  GET  /json?...            200 {"ok": true, "query": {...}}
  POST /echo                200 {"received": <the JSON body>, "content_type": ...}
  GET  /status/<code>       <code> {"status": <code>}
  GET  /flaky/<key>         500 on the first request for <key>, then 200 {"key", "attempt": n}
  GET  /gate/<key>          blocks until the test opens gate <key> (or GATE_TIMEOUT_S passes,
                            then 504); 200 {"gate": key} once open
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

GATE_TIMEOUT_S = 60.0


class LoopbackHttp:
    """The state the handler shares with the tests: request counts per path and the gates."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self._gates: dict[str, threading.Event] = {}
        self._waiting: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.url = ""

    def gate(self, key: str) -> threading.Event:
        with self._lock:
            return self._gates.setdefault(key, threading.Event())

    def open(self, key: str) -> None:
        self.gate(key).set()

    def open_all(self) -> None:
        with self._lock:
            gates = list(self._gates.values())
        for event in gates:
            event.set()

    def waiting(self, key: str) -> int:
        """How many requests are blocked on gate `key` right now."""
        with self._lock:
            return self._waiting[key]

    def count(self, path: str) -> int:
        with self._lock:
            return self.hits[path]

    def _hit(self, path: str) -> int:
        with self._lock:
            self.hits[path] += 1
            return self.hits[path]

    def _await_waiter(self, key: str) -> bool:
        deadline = time.monotonic() + GATE_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.waiting(key) > 0:
                return True
            time.sleep(0.02)
        return False

    def _wait_gate(self, key: str) -> bool:
        event = self.gate(key)
        with self._lock:
            self._waiting[key] += 1
        try:
            return event.wait(GATE_TIMEOUT_S)
        finally:
            with self._lock:
                self._waiting[key] -= 1


def _handler(state: LoopbackHttp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def _answer(self, code: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            attempt = state._hit(url.path)
            parts = url.path.strip("/").split("/")
            if parts[0] == "json":
                self._answer(200, {"ok": True, "query": dict(parse_qsl(url.query))})
            elif parts[0] == "status" and len(parts) == 2 and parts[1].isdigit():
                self._answer(int(parts[1]), {"status": int(parts[1])})
            elif parts[0] == "flaky" and len(parts) == 2:
                if attempt == 1:
                    self._answer(500, {"error": "try again"})
                else:
                    self._answer(200, {"key": parts[1], "attempt": attempt})
            elif parts[0] == "gate" and len(parts) == 2:
                if state._wait_gate(parts[1]):
                    self._answer(200, {"gate": parts[1]})
                else:
                    self._answer(504, {"error": f"gate {parts[1]} was never opened"})
            elif parts[0] == "await" and len(parts) == 2:
                if state._await_waiter(parts[1]):
                    self._answer(200, {"waiting": state.waiting(parts[1])})
                else:
                    self._answer(504, {"error": f"nobody waited on gate {parts[1]}"})
            else:
                self._answer(404, {"error": f"no route {url.path}"})

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            state._hit(url.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if url.path == "/echo":
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                self._answer(200, {"received": body, "content_type": self.headers.get("Content-Type")})
            else:
                self._answer(404, {"error": f"no route {url.path}"})

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A worker that cancelled its request (a cancelled execution) has closed the socket the
        # gate's answer is written to; that is expected, not worth a traceback.
        return


@contextmanager
def loopback_http() -> Iterator[LoopbackHttp]:
    """Serve on a free 127.0.0.1 port in a daemon thread; every gate is opened on the way out so
    no worker stays blocked."""
    state = LoopbackHttp()
    server = _QuietServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="loopback-http", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.open_all()
        server.shutdown()
        server.server_close()
