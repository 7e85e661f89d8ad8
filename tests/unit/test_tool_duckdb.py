"""The duckdb tool (worker-protocol §4.4). duckdb is an optional extra of the package
(`pip install noetl-pg[duckdb]`) and a test dependency, so both paths run here: the SQL tests with
duckdb, and the clear config error a worker without the extra gives (duckdb hidden from the tool)."""

from __future__ import annotations

import pytest

from worker.settings import WorkerSettings
from worker.tools import duckdb as duckdb_tool
from worker.tools import run_tool
from worker.tools.base import ToolContext

def ctx() -> ToolContext:
    return ToolContext(settings=WorkerSettings(worker_id="w"), execution_id=1, step="d")


async def test_without_the_extra_the_tool_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(duckdb_tool, "_duckdb", None)
    r = await run_tool("duckdb", {"query": "SELECT 1"}, ctx())
    assert r.status == "error" and r.error == "duckdb is not installed on this worker"
    assert r.error_info["kind"] == "config"


async def test_multi_statement_shape(tmp_path) -> None:
    r = await run_tool("duckdb", {"command": "CREATE TABLE t (a INT); INSERT INTO t VALUES (1), (2); SELECT * FROM t",
                                  "database": str(tmp_path / "x.duckdb")}, ctx())
    assert r.status == "success", r.error
    assert r.data["rows"] == [{"a": 1}, {"a": 2}] and r.data["statement_count"] == 3
    assert "command_tag" not in r.data["command_2"]


async def test_error_and_params() -> None:
    assert (await run_tool("duckdb", {"query": "SELECT ? + 1 AS x", "params": [1]}, ctx())).data["rows"] == [{"x": 2}]
    bad = await run_tool("duckdb", {"query": "SELEC 1"}, ctx())
    assert bad.status == "error" and bad.data == {"statement_index": 0, "statement_count": 1}
