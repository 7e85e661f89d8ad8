"""The python tool (worker-protocol §4.1): each result convention, inputs as globals, iteration
variables, error shapes and timeouts, all through a real interpreter subprocess."""

from __future__ import annotations

import asyncio
import base64
import os
import time

import pytest

from worker.settings import WorkerSettings
from worker.tools import run_tool
from worker.tools.base import Credential, ToolContext


def ctx(**kw) -> ToolContext:
    base = dict(settings=WorkerSettings(worker_id="w-test"), execution_id=42, step="s",
                server_url="http://127.0.0.1:1", render_context={"workload": {"w": 1}, "greeting": "hi"})
    base.update(kw)
    return ToolContext(**base)


async def py(code: str, context: ToolContext | None = None, **config):
    return await run_tool("python", {"code": code, **config}, context or ctx())


async def test_result_global_is_the_data() -> None:
    r = await py("result = {'n': input_data['x'] * 2}", input={"x": 21})
    assert r.status == "success" and r.data == {"n": 42} and r.exit_code == 0
    env = r.envelope()
    assert set(env) >= {"status", "data", "stdout", "stderr", "exit_code", "duration_ms"}


async def test_top_level_return_is_wrapped_without_touching_triple_quoted_text() -> None:
    code = 'text = """a\n    b"""\nif True:\n    return {"t": text}\n'
    r = await py(code)
    assert r.data == {"t": "a\n    b"}


async def test_main_is_called_with_inputs_context_and_defaults() -> None:
    code = "def main(x, greeting, context, y=5, **rest):\n    return [x, greeting, context['step'], y, rest]"
    r = await py(code, input={"x": 1, "extra": 2})
    assert r.data == [1, "hi", "s", 5, {"extra": 2}]


async def test_async_main_is_awaited() -> None:
    r = await py("import asyncio\nasync def main():\n    await asyncio.sleep(0)\n    return 7")
    assert r.data == 7


async def test_main_missing_required_parameter_is_a_schema_error() -> None:
    r = await py("def main(nope):\n    return 1")
    assert r.status == "error" and r.error.startswith("TypeError:")
    assert r.error_info["kind"] == "schema" and r.error_info["code"] == "PY_TypeError"


async def test_explicit_none_result_is_null() -> None:
    r = await py("print('hello')\nresult = None")
    assert r.status == "success" and r.data is None and r.stdout == "hello\n"


async def test_nothing_falls_back_to_stdout_json_then_streams() -> None:
    assert (await py("import json\nprint(json.dumps({'a': 1}))")).data == {"a": 1}
    r = await py("print('plain')")
    assert r.data == {"stdout": "plain\n", "stderr": ""}


async def test_prints_never_corrupt_the_result() -> None:
    r = await py("print('{\"fake\": true}')\nresult = {'real': True}")
    assert r.data == {"real": True}


async def test_json_looking_string_inputs_are_parsed() -> None:
    r = await py("result = [rows[0]['a'], pyish['k'], plain]",
                 input={"rows": '[{"a": 1}]', "pyish": "{'k': True}", "plain": "{not json"})
    assert r.data == [1, True, "{not json"]


async def test_an_input_named_input_data_wins() -> None:
    r = await py("result = input_data", input={"input_data": {"inner": 1}})
    assert r.data == {"inner": 1}


async def test_iteration_variables_and_render_context() -> None:
    c = ctx(render_context={"city": {"name": "Oslo"}, "iter": {"city": {"name": "Oslo"}}}, item_var="city",
            iteration_index=2, iteration_total=3)
    r = await py("result = [city['name'], loop_index, _total, context['city']['name'], execution_id]", c)
    assert r.data == ["Oslo", 2, 3, "Oslo", "42"]


async def test_result_values_are_made_json() -> None:
    code = ("import decimal, math\nresult = {'d': datetime.date(2024, 1, 2), 'n': decimal.Decimal('1.50'),"
            " 'i': decimal.Decimal('3'), 's': {1}, 't': (1, 2), 'b': b'hi', 'nan': math.nan, 'o': object}")
    r = await py(code)
    assert r.data["d"] == "2024-01-02" and r.data["n"] == 1.5 and r.data["i"] == 3
    assert r.data["s"] == [1] and r.data["t"] == [1, 2] and r.data["b"] == base64.b64encode(b"hi").decode()
    assert r.data["nan"] is None and r.data["o"] == "<class 'object'>"


async def test_libs_are_imported() -> None:
    r = await py("result = [m.sqrt(16), dt(2020, 1, 1).year]",
                 libs={"m": "math", "dt": {"from": "datetime", "import": "datetime"}})
    assert r.data == [4.0, 2020]


async def test_uncaught_exception_shape() -> None:
    r = await py("raise KeyError('missing')")
    assert r.status == "error" and r.data is None and r.exit_code == 1
    assert r.error == "KeyError: 'missing'"
    assert r.error_info["exception_type"] == "KeyError" and "Traceback" in r.error_info["traceback"]


async def test_json_error_is_a_parse_error() -> None:
    r = await py("import json\njson.loads('{')")
    assert r.error_info["kind"] == "parse" and r.error_info["code"] == "PY_JSONDecodeError"


async def test_sys_exit_nonzero_and_zero() -> None:
    r = await py("import sys\nsys.exit(3)")
    assert r.status == "error" and r.error == "Python script exited with code 3" and r.exit_code == 3
    assert r.error_info["code"] == "PY_EXIT_3"
    ok = await py("import sys\nresult = {'ok': 1}\nsys.exit(0)")
    assert ok.status == "success" and ok.data == {"ok": 1}


async def test_killed_by_signal() -> None:
    r = await py("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    assert r.status == "error" and r.error == "Python script terminated by signal 9" and r.exit_code == -9


async def test_timeout_kills_the_process_group() -> None:
    started = time.monotonic()
    r = await py("import subprocess, time\nsubprocess.Popen(['sleep', '30'])\ntime.sleep(30)", timeout_seconds=0.5)
    assert r.status == "timeout" and r.error_info["kind"] == "timeout" and r.error_info["code"] == "PY_TIMEOUT"
    assert time.monotonic() - started < 10


async def test_cancellation_stops_the_script() -> None:
    task = asyncio.ensure_future(py("import time\ntime.sleep(30)"))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


async def test_environment_drops_noetl_and_nats_variables(monkeypatch) -> None:
    monkeypatch.setenv("NOETL_SECRET_THING", "x")
    monkeypatch.setenv("NATS_PASSWORD", "y")
    r = await py("result = [os.environ.get('NOETL_SECRET_THING'), os.environ.get('NATS_PASSWORD'),"
                 " os.environ['NOETL_EXECUTION_ID'], os.environ['NOETL_STEP'], os.environ['EXTRA']]",
                 env={"EXTRA": 5})
    assert r.data == [None, None, "42", "s", "5"]


async def test_code_b64_and_script_sources(tmp_path) -> None:
    r = await run_tool("python", {"code_b64": base64.b64encode(b"result = 9").decode()}, ctx())
    assert r.data == 9
    path = tmp_path / "s.py"
    path.write_text("result = 'from file'")
    assert (await run_tool("python", {"script": {"path": str(path)}}, ctx())).data == "from file"
    bad = await run_tool("python", {"script": {"source": {"type": "gcs", "path": "x"}}}, ctx())
    assert bad.status == "error" and bad.error_info["kind"] == "config"


async def test_postgres_credential_is_exposed_as_global_and_pg_env() -> None:
    class Creds:
        async def fetch(self, alias: str) -> Credential:
            return Credential(alias, "postgres", {"db_host": "h", "db_port": 5433, "db_user": "u",
                                                  "db_password": "secret-pw", "db_name": "d"})

    r = await py("result = [credential['db_host'], os.environ['PGHOST'], os.environ['PGPORT'], os.environ['PGDATABASE']]",
                 ctx(credentials=Creds()), auth="pg")
    assert r.data == ["h", "h", "5433", "d"]


async def test_syntax_error_is_an_error_outcome() -> None:
    r = await py("def (:")
    assert r.status == "error" and r.error.startswith("SyntaxError")


async def _warm_spare_pid() -> int:
    """Wait until the pool holds a started spare; its pid."""
    from worker.tools.python import SPARES
    SPARES.refill()
    for _ in range(200):
        if SPARES._filling is not None:
            await asyncio.wait({SPARES._filling}, timeout=5)
        if SPARES._spares:
            return SPARES._spares[0].proc.pid
        await asyncio.sleep(0.01)
    raise AssertionError("no warm spare was started")


SPARE_PROBE = ("import os\nresult = {'pid': os.getpid(), 'cwd': os.getcwd(), 'step': os.environ.get('NOETL_STEP'),"
               " 'x': os.environ.get('MY_VAR'), 'noetl': sorted(k for k in os.environ if k.startswith('NOETL_')),"
               " 'nats': [k for k in os.environ if k.startswith('NATS_')]}")


async def test_warm_spare_runs_one_script_with_the_commands_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("NOETL_SECRET_THING", "x")
    monkeypatch.setenv("NATS_PASSWORD", "y")
    await py("result = 0")  # the pool fills after its first use
    spare = await _warm_spare_pid()
    first = await py(SPARE_PROBE, env={"MY_VAR": "v"})
    assert first.status == "success" and first.data["pid"] == spare
    assert first.data["step"] == "s" and first.data["x"] == "v" and first.data["nats"] == []
    assert first.data["noetl"] == ["NOETL_EXECUTION_ID", "NOETL_SERVER_URL", "NOETL_STEP"]
    assert os.path.basename(first.data["cwd"]).startswith("noetl-py-")
    assert not os.path.exists(first.data["cwd"])  # the private directory is removed afterwards
    # one process per run: the next command gets another spare, in the directory it names
    spare = await _warm_spare_pid()
    second = await py(SPARE_PROBE, cwd=str(tmp_path))
    assert second.data["pid"] == spare != first.data["pid"] and second.data["cwd"] == str(tmp_path)


async def test_interpreter_startup_variables_get_a_fresh_interpreter() -> None:
    await py("result = 0")
    spare = await _warm_spare_pid()
    r = await py(SPARE_PROBE, env={"PYTHONHASHSEED": "0"})
    assert r.status == "success" and r.data["pid"] != spare


async def test_no_spares_when_disabled() -> None:
    settings = WorkerSettings(worker_id="w-test", python_spares=0)
    r = await py("result = 5", ctx(settings=settings))
    assert r.data == 5
