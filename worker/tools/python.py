"""The `python` tool: the script runs in a separate interpreter process (worker-protocol §4.1), so a
crash, a hang or a sys.exit cannot take the worker down; the outcome comes back through a file in a
private temporary directory, never through stdout."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from worker.result import ToolError, ToolResult, cut_stream, error_info, to_json_value
from worker.tools.base import ToolContext, credential_alias, number
from worker.tools.proc import finish_process, run_process, spawn

RUNNER = Path(__file__).resolve().parent.parent / "pyrunner.py"
_SCHEMA_ERRORS = {"TypeError", "ValueError", "KeyError", "IndexError"}
# Variables read while an interpreter starts (or by the dynamic loader), which a warm spare has
# already passed: a command that sets one gets a fresh interpreter.
_STARTUP_ENV = ("PYTHON", "LD_", "LC_", "LANG")


class _Spare:
    __slots__ = ("proc", "workdir", "loop")

    def __init__(self, proc: asyncio.subprocess.Process, workdir: str, loop: asyncio.AbstractEventLoop) -> None:
        self.proc, self.workdir, self.loop = proc, workdir, loop


class SparePool:
    """Warm spares of the runner for the worker's own interpreter (worker-protocol §4.1 keeps one
    process per run; this only starts that process before its command arrives). A fresh
    interpreter costs 30-200 ms to start (site-packages, imports), on every python command's
    path; a spare is started in the background, waits for its job on stdin, runs exactly one
    script and exits. It was started with the worker's environment minus NOETL_*/NATS_* in its
    own fresh private directory; the command's environment and directory come with the job."""

    def __init__(self) -> None:
        self._spares: list[_Spare] = []
        self._filling: asyncio.Task | None = None
        self.size = 2

    def take(self, size: int) -> _Spare | None:
        self.size = size
        loop = asyncio.get_running_loop()
        spare = None
        while self._spares:
            candidate = self._spares.pop(0)  # the oldest: the most likely to have finished starting
            if candidate.loop is loop and candidate.proc.returncode is None:
                spare = candidate
                break
            _discard(candidate)
        self.refill()
        return spare

    def refill(self) -> None:
        if self.size > 0 and (self._filling is None or self._filling.done()):
            self._filling = asyncio.ensure_future(self._fill())

    async def _fill(self) -> None:
        loop = asyncio.get_running_loop()
        while len(self._spares) < self.size:
            workdir = tempfile.mkdtemp(prefix="noetl-py-")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("NOETL_", "NATS_"))}
            try:
                proc = await spawn([sys.executable, str(RUNNER)], env=env, cwd=workdir)
            except OSError:
                shutil.rmtree(workdir, ignore_errors=True)
                return
            self._spares.append(_Spare(proc, workdir, loop))

    async def close(self) -> None:
        """Stop the spares (at worker shutdown)."""
        if self._filling is not None and not self._filling.done():
            self._filling.cancel()
        self.size = 0
        spares, self._spares = self._spares, []
        for spare in spares:
            _discard(spare)
            if spare.loop is asyncio.get_running_loop():
                try:
                    await asyncio.wait_for(spare.proc.wait(), 2)
                except (asyncio.TimeoutError, ProcessLookupError):
                    pass


def _discard(spare: _Spare) -> None:
    try:
        os.killpg(spare.proc.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass
    shutil.rmtree(spare.workdir, ignore_errors=True)


SPARES = SparePool()


def _script(config: dict[str, Any]) -> str:
    code = config.get("code")
    if isinstance(code, str):
        return code
    for key in ("code_b64", "code_base64"):
        if isinstance(config.get(key), str):
            try:
                return base64.b64decode(config[key]).decode("utf-8")
            except (ValueError, UnicodeDecodeError) as exc:
                raise ToolError(f"python: {key} is not valid base64 UTF-8 text: {exc}") from None
    script = config.get("script")
    if isinstance(script, dict):
        if isinstance(script.get("path"), str):
            return _read(script["path"])
        source = script.get("source")
        if isinstance(source, dict):
            if source.get("type") == "file" and isinstance(source.get("path"), str):
                return _read(source["path"])
            if source.get("type") == "inline" and isinstance(source.get("code"), str):
                return source["code"]
            raise ToolError(f"python: script source type {source.get('type')!r} is not supported "
                            "(file or inline)")
    if code is not None:
        raise ToolError(f"python: code must be a string, got {type(code).__name__}")
    raise ToolError("python: no code (give code, code_b64 or script)")


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ToolError(f"python: cannot read script {path}: {exc.strerror}") from None


def _inputs(config: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in (config.get("args"), config.get("input"), ctx.step_input):
        if isinstance(part, dict):
            merged.update(part)
    return merged


def _iteration(ctx: ToolContext, inputs: dict[str, Any]) -> dict[str, Any]:
    names: dict[str, Any] = {}
    if ctx.item_var:
        names[ctx.item_var] = ctx.render_context.get(ctx.item_var)
    if ctx.iteration_index is not None:
        names["loop_index"] = ctx.iteration_index
        names["_index"] = ctx.iteration_index
        names["_total"] = ctx.iteration_total
    if "iter" in ctx.render_context:
        names["iter"] = ctx.render_context["iter"]
    return {k: v for k, v in names.items() if k not in inputs}


async def run(config: dict[str, Any], ctx: ToolContext) -> ToolResult:
    code = _script(config)
    timeout = number(config.get("timeout_seconds", config.get("timeout")), "timeout_seconds")
    env_config = config.get("env") or {}
    if not isinstance(env_config, dict):
        raise ToolError("python: env must be an object of strings")
    libs = config.get("libs") or {}
    if not isinstance(libs, dict):
        raise ToolError("python: libs must be an object alias -> module")
    inputs = _inputs(config, ctx)
    env_extra = dict(env_config)
    credential_data = None
    alias = credential_alias(config.get("auth") or config.get("credential"))
    if alias:
        cred = await ctx.credential(alias)
        credential_data = cred.data
        if cred.type.lower() in {"postgres", "postgresql"}:
            from worker.tools.postgres import connection_fields
            fields = connection_fields(cred.data)
            for env_name, key in (("PGHOST", "host"), ("PGPORT", "port"), ("PGUSER", "user"),
                                  ("PGPASSWORD", "password"), ("PGDATABASE", "database")):
                if fields.get(key) is not None:
                    env_extra.setdefault(env_name, str(fields[key]))

    own_dir = config.get("cwd") is None
    interpreter = str(config.get("python") or sys.executable)
    spare = None
    if (interpreter == sys.executable and ctx.settings.python_spares > 0
            and not any(str(k).startswith(_STARTUP_ENV) for k in env_extra)):
        spare = SPARES.take(ctx.settings.python_spares)
    workdir = spare.workdir if spare is not None else tempfile.mkdtemp(prefix="noetl-py-")
    try:
        result_path = Path(workdir) / ".noetl-result.json"
        cwd = workdir if own_dir else str(config["cwd"])
        env = ctx.child_env(env_extra)
        doc = {"code": code, "inputs": inputs, "context": ctx.render_context, "libs": libs,
               "iteration": _iteration(ctx, inputs), "execution_id": str(ctx.execution_id), "step": ctx.step,
               "server_url": ctx.server_url, "credential": credential_data, "result_path": str(result_path)}
        if spare is not None:
            doc["env"], doc["cwd"] = env, cwd
        try:
            stdin = json.dumps(to_json_value(doc), allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            if spare is not None:
                _discard(spare)
            raise ToolError(f"python: inputs cannot be passed as JSON: {exc}") from None
        stderr_note = "" if not config.get("deps") else "noetl: 'deps' is not supported by the reference worker; ignored\n"
        started = time.monotonic()
        if spare is not None:
            outcome = await finish_process(spare.proc, stdin=stdin, timeout=timeout)
        else:
            outcome = await run_process([interpreter, str(RUNNER)], stdin=stdin, env=env, cwd=cwd, timeout=timeout)
        duration = int((time.monotonic() - started) * 1000)
        report = _read_report(result_path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # ours in every case (a given cwd is separate)
    return _result(outcome.returncode, outcome.stdout, stderr_note + outcome.stderr, outcome.timed_out, report,
                   duration, ctx, timeout)


def _read_report(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _result(returncode: int, stdout: str, stderr: str, timed_out: bool, report: dict[str, Any] | None,
            duration: int, ctx: ToolContext, timeout: float | None) -> ToolResult:
    max_bytes = ctx.settings.max_stream_bytes
    out, out_cut = cut_stream(stdout, max_bytes)
    err, err_cut = cut_stream(stderr, max_bytes)
    extra = {k: True for k, cut in (("stdout_truncated", out_cut), ("stderr_truncated", err_cut)) if cut}
    base = dict(stdout=out, stderr=err, duration_ms=duration, extra=extra, tool_kind="python")
    if timed_out:
        message = f"Python script timed out after {timeout:g} seconds"
        return ToolResult(status="timeout", error=message, exit_code=returncode,
                          error_info=error_info("timeout", "PY_TIMEOUT", message, "python"), **base)
    kind = (report or {}).get("kind")
    if kind == "exception":
        etype, emsg = report["type"], report["message"]
        message = f"{etype}: {emsg}"
        if etype == "JSONDecodeError" or "json" in emsg.lower():
            ekind = "parse"
        elif etype in _SCHEMA_ERRORS:
            ekind = "schema"
        else:
            ekind = "unknown"
        return ToolResult(status="error", error=message, exit_code=1, error_info=error_info(
            ekind, f"PY_{etype}", message, "python", exception_type=etype, traceback=report.get("traceback")), **base)
    if kind == "exit" or (report is None and returncode != 0):
        if returncode < 0:
            message, code = f"Python script terminated by signal {-returncode}", f"PY_SIGNAL_{-returncode}"
        else:
            exit_code = report["code"] if report else returncode
            message, code = f"Python script exited with code {exit_code}", f"PY_EXIT_{exit_code}"
        return ToolResult(status="error", error=message, exit_code=returncode,
                          error_info=error_info("unknown", code, message, "python"), **base)
    if kind == "result":
        return ToolResult(status="success", data=report.get("value"), exit_code=0, **base)
    # No convention applied (or the script ended the process itself): stdout as JSON, else streams.
    text = stdout.strip()
    data: Any
    try:
        data = json.loads(text) if text else None
        if not text:
            raise ValueError
    except ValueError:
        data = {"stdout": out, "stderr": err}
    return ToolResult(status="success", data=to_json_value(data), exit_code=0, **base)
