"""`make run` end to end: `noetl-pg run` brings up PostgreSQL, NATS, the server, the bridge and a
worker, runs the hello-world example to completion, prints its result and URLs that answer, and
a Ctrl-C (SIGINT) stops every process it started."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from noetl_pg.examples import sse_frames
from noetl_pg.paths import ROOT


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # short: the PostgreSQL socket path must stay under 107 bytes
    path = Path(tempfile.mkdtemp(prefix="npg-run-"))
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


def read_until(proc: subprocess.Popen[str], needle: str, timeout: float) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"{needle!r} not printed; output so far:\n{''.join(seen)}")


def printed(output: str, label: str) -> str:
    match = re.search(rf"^  {re.escape(label)}\s+(.+)$", output, re.MULTILINE)
    assert match, f"no {label!r} line in:\n{output}"
    return match.group(1).strip()


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (Sanic's worker process included)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def test_make_run_runs_an_example_serves_its_urls_and_stops_everything_on_ctrl_c(state_dir: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "noetl_pg.cli", "run", "--state-dir", str(state_dir)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started: set[int] = set()
    try:
        output = read_until(proc, "press Ctrl-C", timeout=240)
        assert re.search(r"execution\s+\d+: COMPLETED in", output), output
        assert json.loads(printed(output, "result")) == {"message": "Hello, world!"}
        for name in ("server", "bridge", "worker"):
            assert re.search(rf"\({name}, pid \d+\)", output), f"no {name} process reported"
        api, metrics, stream = printed(output, "API"), printed(output, "metrics"), printed(output, "SSE stream")

        with httpx.Client(timeout=30) as client:
            assert client.get(f"{api}/health").json()["status"] == "ok"
            catalog = client.post(f"{api}/catalog/list", json={"resource_type": "Playbook"})
            assert catalog.status_code == 200
            assert "examples/loop_and_join" in catalog.text
            scrape = client.get(metrics)
            assert scrape.status_code == 200 and "# TYPE" in scrape.text
            with client.stream("GET", stream) as answer:
                assert answer.status_code == 200
                assert answer.headers["content-type"].startswith("text/event-stream")
                frames = list(sse_frames(answer.iter_lines()))
        kinds = [f.event for f in frames]
        assert kinds[-2:] == ["playbook.completed", "end"], kinds
        assert frames[-1].json()["status"] == "COMPLETED"

        started = descendants(proc.pid)
        postmaster = int((state_dir / "pg" / "data" / "postmaster.pid").read_text().split()[0])
        started.add(postmaster)
        assert len(started) >= 5, f"expected PostgreSQL, NATS, server, bridge and worker: {started}"
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, rest
    assert "stopping the local stack" in rest
    still = sorted(pid for pid in started if alive(pid))
    assert not still, f"processes left after Ctrl-C: {still}"
    assert not (state_dir / "pg" / "data" / "postmaster.pid").exists()
