"""Running a tool subprocess in its own process group: bounded by a timeout, killed as a group
(SIGTERM, then SIGKILL after 5 s) on timeout or when the command is cancelled."""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass

KILL_GRACE_SECONDS = 5.0


@dataclass
class ProcessOutcome:
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False


async def _stop_group(proc: asyncio.subprocess.Process) -> None:
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_SECONDS), (signal.SIGKILL, None)):
        if proc.returncode is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        if wait is None:
            break
        try:
            await asyncio.wait_for(proc.wait(), wait)
            return
        except asyncio.TimeoutError:
            continue
    try:
        await asyncio.wait_for(proc.wait(), 5)
    except asyncio.TimeoutError:
        pass


async def spawn(argv: list[str], *, env: dict[str, str], cwd: str, stdin: bool = True) -> asyncio.subprocess.Process:
    """Start a tool process in its own session (process group), with piped stdout and stderr."""
    return await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=cwd,
        start_new_session=True)


async def run_process(argv: list[str], *, stdin: bytes | None, env: dict[str, str], cwd: str,
                      timeout: float | None) -> ProcessOutcome:
    proc = await spawn(argv, env=env, cwd=cwd, stdin=stdin is not None)
    return await finish_process(proc, stdin=stdin, timeout=timeout)


async def finish_process(proc: asyncio.subprocess.Process, *, stdin: bytes | None,
                         timeout: float | None) -> ProcessOutcome:
    """Feed stdin to a started process and collect its streams, bounded by `timeout`; the group
    is stopped on timeout or cancellation."""
    communicate = asyncio.ensure_future(proc.communicate(stdin))
    try:
        out, err = await asyncio.wait_for(asyncio.shield(communicate), timeout)
        return ProcessOutcome(proc.returncode if proc.returncode is not None else -1,
                              out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
    except asyncio.TimeoutError:
        await _stop_group(proc)
        out, err = await _drain(communicate)
        return ProcessOutcome(proc.returncode if proc.returncode is not None else -9, out, err, timed_out=True)
    except asyncio.CancelledError:
        await asyncio.shield(_stop_group(proc))
        communicate.cancel()
        raise


async def _drain(communicate: asyncio.Future) -> tuple[str, str]:
    try:
        out, err = await asyncio.wait_for(communicate, 5)
        return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - the streams are best effort here
        communicate.cancel()
        return "", ""
