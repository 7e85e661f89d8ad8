"""The example playbooks of `noetl-pg run`: register examples/, give the postgres example its
credential, run one example to its terminal event over the SSE stream and report the result."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from noetl_pg.errors import UserError
from noetl_pg.paths import ROOT

EXAMPLES_DIR = ROOT / "examples"
DEFAULT_EXAMPLE = "examples/hello_world"
# The postgres example's credential and database (examples/postgres_query.yaml names both).
EXAMPLES_CREDENTIAL = "examples_pg"
EXAMPLES_DATABASE = "noetl_examples"


@dataclass
class SseFrame:
    event: str = "message"
    data: str = ""
    id: str | None = None

    def json(self) -> Any:
        return json.loads(self.data) if self.data else None


def sse_frames(lines: Iterator[str]) -> Iterator[SseFrame]:
    """Frames of a text/event-stream body given line by line (comments and `retry:` skipped)."""
    frame, seen = SseFrame(), False
    for line in lines:
        if line == "":
            if seen:
                yield frame
            frame, seen = SseFrame(), False
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            frame.event, seen = value, True
        elif name == "data":
            frame.data, seen = (frame.data + "\n" + value if frame.data else value), True
        elif name == "id":
            frame.id, seen = value, True
    if seen:
        yield frame


def register_examples(client: httpx.Client, directory: Path = EXAMPLES_DIR) -> list[str]:
    """POST every examples/*.yaml to the catalog; the registered paths, in file-name order."""
    paths = []
    for file in sorted(directory.glob("*.yaml")):
        answer = client.post("/api/catalog/register", json={"content": file.read_text()})
        if answer.status_code != 200:
            raise UserError(f"registering {file.name} failed: HTTP {answer.status_code}: {answer.text[:300]}")
        paths.append(answer.json()["path"])
    return paths


def register_examples_credential(client: httpx.Client, dsn: str) -> None:
    """The `examples_pg` credential: the libpq `k=v` DSN of the examples database as credential data."""
    fields = dict(part.split("=", 1) for part in dsn.split())
    data = {"host": fields["host"], "port": int(fields["port"]), "user": fields["user"],
            "database": fields["dbname"]}
    answer = client.post("/api/credentials", json={
        "name": EXAMPLES_CREDENTIAL, "type": "postgres", "data": data,
        "description": "the local stack's examples database (noetl-pg run)"})
    if answer.status_code != 200:
        raise UserError(f"registering credential {EXAMPLES_CREDENTIAL} failed: HTTP {answer.status_code}: "
                        f"{answer.text[:300]}")


@dataclass
class ExampleRun:
    """One finished run: the URLs to look at it again and what it produced."""

    path: str
    execution_id: str
    status: str
    seconds: float
    stream_url: str
    status_url: str
    events: list[str] = field(default_factory=list)
    result: Any = None
    error: str | None = None

    def describe(self) -> str:
        lines = [f"  example            {self.path}",
                 f"  execution          {self.execution_id}: {self.status} in {self.seconds:.2f} s"
                 f" ({len(self.events)} events)"]
        if self.error:
            lines.append(f"  error              {self.error}")
        lines.append(f"  result             {json.dumps(self.result, ensure_ascii=False)}")
        lines.append(f"  status             {self.status_url}")
        lines.append(f"  SSE stream         {self.stream_url}")
        return "\n".join(lines)


def run_example(client: httpx.Client, api_url: str, path: str = DEFAULT_EXAMPLE,
                timeout: float = 120.0) -> ExampleRun:
    """Execute `path`, follow its SSE stream to the `end` frame, then read its status. The result
    is the binding of the last completed step (the value its templates would see)."""
    started = time.monotonic()
    answer = client.post("/api/execute", json={"path": path})
    if answer.status_code != 200:
        raise UserError(f"executing {path} failed: HTTP {answer.status_code}: {answer.text[:300]}")
    execution_id = answer.json()["execution_id"]
    stream_url = f"{api_url}/api/executions/{execution_id}/events/stream"
    events: list[str] = []
    deadline = started + timeout
    while time.monotonic() < deadline:  # reconnects after a duration-limit close, resuming by id
        headers = {"Last-Event-ID": events[-1]} if events else {}
        with client.stream("GET", stream_url, headers=headers, timeout=timeout) as stream:
            if stream.status_code == 204:
                break
            ended = False
            for frame in sse_frames(stream.iter_lines()):
                if frame.event == "end":
                    ended = True
                    break
                if frame.id:
                    events.append(frame.id)
            if ended:
                break
    seconds = time.monotonic() - started
    status = client.get(f"/api/executions/{execution_id}/status").json()
    completed = status.get("completed_steps") or []
    variables = status.get("variables") or {}
    result = variables.get(completed[-1]) if completed else None
    return ExampleRun(path=path, execution_id=str(execution_id), status=status.get("status", "UNKNOWN"),
                      seconds=seconds, stream_url=stream_url,
                      status_url=f"{api_url}/api/executions/{execution_id}/status", events=events,
                      result=result, error=status.get("error"))
