"""Claim and read commands over HTTP with two shards (http-api §2.5, engine.md §4.7): the claim
decision table, stale-claim takeover, claim-time rendering and render errors (EC-42)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import psycopg

from noetl_pg.routing import shard_for
from tests.api.conftest import Api, assert_error

PLAYBOOKS = Path(__file__).parent.parent / "playbooks"
RENDERED = """apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: rendered, path: tests/http/rendered}
workload: {base: "http://h", n: 3, word: hello}
workflow:
  - step: start
    tool:
      kind: http
      url: "{{ base }}/items/{{ n }}"
      params: {count: "{{ n }}", plain: "01234", shout: "{{ word | upper }}", missing: "{{ nothing }}"}
      input: {limit: "{{ n * 2 }}"}
    next: end
  - {step: end, tool: {kind: noop}}
"""


def shard_dsn(api: Api, execution_id: int) -> str:
    return api.dbs.shard_dsns[shard_for(execution_id, 2)]


def pending(api: Api, execution_id: int) -> list[tuple[int, str]]:
    with psycopg.connect(shard_dsn(api, execution_id)) as conn:
        return conn.execute("SELECT command_id, step_name FROM noetl.command WHERE execution_id = %s"
                            " AND status = 'PENDING' ORDER BY command_id", [execution_id]).fetchall()


async def run(api: Api, content: str, path: str, workload: dict | None = None) -> tuple[int, int]:
    """Registers and starts a playbook; the execution id and its first command id."""
    register = await api.client.post("/api/catalog/register", json={"content": content})
    assert register.status_code == 200, register.text
    started = await api.client.post("/api/execute", json={"path": path, "workload": workload or {}})
    assert started.status_code == 200, started.text
    execution_id = int(started.json()["execution_id"])
    [(command_id, _step)] = pending(api, execution_id)
    return execution_id, command_id


async def test_claim_answers_the_rendered_command(api: Api) -> None:
    execution_id, command_id = await run(api, RENDERED, "tests/http/rendered")
    response = await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w1"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and body["event_id"] == command_id and body["execution_id"] == execution_id
    assert body["node_id"] == body["node_name"] == "start" and body["action"] == "http"
    config = body["context"]["tool_config"]
    assert config["url"] == "http://h/items/3"
    assert config["params"] == {"count": 3, "plain": "01234", "shout": "HELLO", "missing": None}
    assert body["context"]["args"] == body["context"]["input"] == {"limit": 6}
    assert body["context"]["render_context"]["workload"]["base"] == "http://h"
    meta = body["meta"]
    assert meta["command_id"] == f"{execution_id}:start:{command_id}" and meta["step"] == "start"
    assert meta["tool_kind"] == "http" and meta["attempt"] == 1 and meta["actionable"] is True
    assert meta["execution_id"] == str(execution_id) and isinstance(meta["catalog_id"], str)


async def test_get_command_renders_without_claiming(api: Api) -> None:
    execution_id, command_id = await run(api, RENDERED, "tests/http/rendered")
    body = (await api.client.get(f"/api/commands/{command_id}")).json()
    assert body["command_status"] == "PENDING" and "status" not in body
    assert body["execution_id"] == execution_id and body["context"]["tool_config"]["url"] == "http://h/items/3"
    claimed = await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w1"})
    assert claimed.status_code == 200
    again = (await api.client.get(f"/api/commands/{command_id}")).json()
    assert again["command_status"] == "CLAIMED"


async def test_verbatim_and_deferred_parts_reach_the_worker_unrendered(api: Api) -> None:
    _, command_id = await run(api, (PLAYBOOKS / "keychain_deferred.yaml").read_text(), "tests/keychain_deferred")
    body = (await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w1"})).json()
    config = body["context"]["tool_config"]
    assert config["url"] == "http://127.0.0.1:5555/api/v1/me"
    assert config["headers"]["Authorization"] == "Bearer {{ keychain.api_token }}"
    assert config["headers"]["X-Request"] == str(body["execution_id"])
    assert config["spec"]["policy"]["rules"][0]["when"] == "{{ output.status == 'error' }}"
    assert config["set"] == {"ctx.seen": "{{ output.data }}"}
    assert body["context"]["keychain"][0]["name"] == "api_token"


async def test_a_pipeline_task_list_is_shipped_as_written(api: Api) -> None:
    _, command_id = await run(api, (PLAYBOOKS / "pipeline_policy_rules.yaml").read_text(),
                              "tests/pipeline_policy_rules")
    body = (await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w1"})).json()
    assert body["action"] == "task_sequence"
    tasks = body["context"]["tool_config"]
    assert isinstance(tasks, list) and tasks[0]["fetch"]["url"] == "{{ api_url }}/api/v1/assessments"
    assert tasks[1]["count"]["input"] == {"body": "{{ _prev }}"}


async def test_repeated_claim_by_the_holder_and_a_rival_claim(api: Api) -> None:
    _, command_id = await run(api, RENDERED, "tests/http/rendered")
    first = await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w1", "locality": {"zone": "a"}})
    again = await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w1"})
    assert first.status_code == again.status_code == 200
    assert again.json()["context"] == first.json()["context"]
    rival = await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w2"})
    detail = assert_error(rival, 409, "active_claim")
    assert rival.headers["retry-after"] == "2"
    assert detail["worker_id"] == "w1" and detail["claimed_at"].endswith("Z")


async def test_render_error_fails_the_command_and_the_run(api: Api) -> None:
    execution_id, command_id = await run(api, (PLAYBOOKS / "bad_template_at_claim.yaml").read_text(),
                                         "tests/bad_template_at_claim")
    response = await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w1"})
    detail = assert_error(response, 409, "already_terminal")
    assert detail["reason"] == "render_error" and "input.ratio" in detail["message"]
    status = (await api.client.get(f"/api/executions/{execution_id}/status")).json()
    assert status["status"] == "FAILED" and "input.ratio" in status["error"]
    with psycopg.connect(shard_dsn(api, execution_id)) as conn:
        meta, worker = conn.execute("SELECT meta, worker_id FROM noetl.event WHERE execution_id = %s"
                                    " AND event_type = 'command.failed'", [execution_id]).fetchone()
    assert meta["reason"] == "render_error" and worker is None
    again = await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w2"})
    assert assert_error(again, 409, "already_terminal")["reason"] == "execution_failed"
    read = (await api.client.get(f"/api/commands/{command_id}")).json()
    assert read["context"]["input"] == {"ratio": "{{ 1 / 0 }}"} and "input.ratio" in read["meta"]["render_error"]


async def test_claims_of_a_cancelled_or_finished_execution_are_refused(api: Api) -> None:
    execution_id, command_id = await run(api, RENDERED, "tests/http/rendered")
    await api.client.post(f"/api/executions/{execution_id}/cancel", json={"cascade": False})
    detail = assert_error(await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w1"}),
                          409, "execution_cancelled")
    assert detail["execution_id"] == str(execution_id)

    execution_id, command_id = await run(api, RENDERED, "tests/http/rendered")
    await api.client.post(f"/api/executions/{execution_id}/finalize", json={"status": "COMPLETED"})
    detail = assert_error(await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w1"}),
                          409, "already_terminal")
    assert detail["reason"] in ("execution_completed", "command_cancelled")


async def test_completed_command_is_already_terminal(api: Api) -> None:
    execution_id, command_id = await run(api, RENDERED, "tests/http/rendered")
    assert (await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w1"})).status_code == 200
    for event_type in ("command.started", "command.completed"):
        posted = await api.client.post("/api/events", json={
            "execution_id": execution_id, "event_type": event_type, "step": "start", "worker_id": "w1",
            "context": {"command_id": f"{execution_id}:start:{command_id}", "result": {"status": "success"}}})
        assert posted.status_code == 200, posted.text
    detail = assert_error(await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w2"}),
                          409, "already_terminal")
    assert detail["reason"] == "command_completed"


def _age_claim(api: Api, execution_id: int, command_id: int, seconds: int) -> None:
    with psycopg.connect(shard_dsn(api, execution_id)) as conn:
        conn.execute("UPDATE noetl.command SET claimed_at = now() - make_interval(secs => %s),"
                     " heartbeat_at = now() - make_interval(secs => %s) WHERE command_id = %s",
                     [seconds, seconds, command_id])


async def test_stale_claims_are_taken_over(api: Api) -> None:
    started_at = api.app.ctx.started_at
    api.app.ctx.started_at = time.time() - 3600  # past the start-up grace period
    try:
        # never started and idle past the claim lease: anyone takes it over
        execution_id, command_id = await run(api, RENDERED, "tests/http/rendered")
        assert (await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w1"})).status_code == 200
        _age_claim(api, execution_id, command_id, 120)
        taken = await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w2"})
        assert taken.status_code == 200, taken.text
        with psycopg.connect(shard_dsn(api, execution_id)) as conn:
            holder, = conn.execute("SELECT worker_id FROM noetl.command WHERE command_id = %s", [command_id]).fetchone()
            reclaimed, = conn.execute("SELECT meta ->> 'reclaimed_from' FROM noetl.event WHERE execution_id = %s"
                                      " AND event_type = 'command.claimed' AND worker_id = 'w2'", [execution_id]).fetchone()
        assert holder == "w2" and reclaimed == "w1"

        # running, idle past the lease: a live holder keeps it, an unregistered one loses it
        execution_id, command_id = await run(api, RENDERED, "tests/http/rendered")
        register = await api.client.post("/api/worker/pool/register", json={"name": "live-worker", "status": "ready"})
        assert register.status_code == 200, register.text
        for worker in ("live-worker",):
            assert (await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": worker})).status_code == 200
            await api.client.post("/api/events", json={
                "execution_id": execution_id, "event_type": "command.started", "step": "start", "worker_id": worker,
                "context": {"command_id": f"{execution_id}:start:{command_id}"}})
        _age_claim(api, execution_id, command_id, 120)
        assert_error(await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w3"}),
                     409, "active_claim")
        await api.client.post("/api/worker/pool/deregister", json={"name": "live-worker"})
        taken = await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w3"})
        assert taken.status_code == 200, taken.text
    finally:
        api.app.ctx.started_at = started_at


async def test_no_takeover_during_the_start_up_grace_period(api: Api) -> None:
    api.app.ctx.started_at = time.time()
    execution_id, command_id = await run(api, RENDERED, "tests/http/rendered")
    assert (await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w1"})).status_code == 200
    _age_claim(api, execution_id, command_id, 120)
    assert_error(await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w2"}),
                 409, "active_claim")


async def test_a_busy_execution_row_answers_lock_timeout(api: Api) -> None:
    execution_id, command_id = await run(api, RENDERED, "tests/http/rendered")
    conn = await psycopg.AsyncConnection.connect(shard_dsn(api, execution_id))
    try:
        await conn.execute("SELECT 1 FROM noetl.execution WHERE execution_id = %s FOR UPDATE", [execution_id])
        started = time.monotonic()
        response = await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w1"})
        detail = assert_error(response, 503, "lock_timeout")
        assert response.headers["retry-after"] == "1" and time.monotonic() - started < 10
        assert "shard" in detail
    finally:
        await conn.rollback()
        await conn.close()
    assert (await api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": "w1"})).status_code == 200


async def test_command_route_errors(api: Api) -> None:
    # 123 carries app machine bits, so every shard is probed
    assert_error(await api.client.post("/api/commands/123/claim", json={"worker_id": "w"}), 404, "command_not_found")
    assert_error(await api.client.get("/api/commands/123"), 404, "command_not_found")
    # a shard-minted id on a shard that does not have it
    missing = (1 << 22) | ((512 + 1) << 12)
    assert_error(await api.client.post(f"/api/commands/{missing}/claim", json={"worker_id": "w"}), 404,
                 "command_not_found")
    detail = assert_error(await api.client.post("/api/commands/abc/claim", json={}), 422, "validation_error")
    assert [e["loc"] for e in detail["errors"]] == [["path", "event_id"], ["body", "worker_id"]]
    detail = assert_error(await api.client.post("/api/commands/1/claim", json={"worker_id": "  "}), 422,
                          "validation_error")
    assert detail["errors"][0]["loc"] == ["body", "worker_id"]
    detail = assert_error(await api.client.post("/api/commands/1/claim", json={"worker_id": "w", "locality": 3}),
                          422, "validation_error")
    assert detail["errors"][0]["loc"] == ["body", "locality"]
    assert_error(await api.client.post("/api/commands/1/claim", content=b"{nope"), 400, "invalid_json")
    assert_error(await api.client.post("/api/commands/1/claim"), 422, "validation_error")
    assert_error(await api.client.get("/api/commands/1.5"), 422, "validation_error")
    assert_error(await api.client.put("/api/commands/1/claim", json={}), 405, "method_not_allowed")


async def test_concurrent_claims_have_one_winner(api: Api) -> None:
    _, command_id = await run(api, RENDERED, "tests/http/rendered")
    answers = await asyncio.gather(*[
        api.client.post(f"/api/commands/{command_id}/claim", json={"worker_id": f"w{i}"}) for i in range(6)])
    assert sorted(a.status_code for a in answers) == [200] + [409] * 5
