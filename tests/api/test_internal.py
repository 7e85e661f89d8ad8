"""The internal API over HTTP with two shards (http-api §2.11, §1.10): bearer rules, the outbox
claim across shards, marks, pending count, and the event projection."""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg
import pytest

from noetl_pg.ids import shard_index_of_minted_id
from noetl_pg.routing import shard_for
from tests.api.conftest import INTERNAL_TOKEN, Api, assert_error, serve, settings_for

AUTH = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
PLAYBOOK = """apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: outbox, path: tests/internal/outbox}
workflow:
  - step: start
    tool: {kind: python, code: "result = 1"}
    next: end
  - step: end
    tool: {kind: noop}
"""


async def start_executions(api: Api, n: int, *, both_shards: bool = False) -> list[int]:
    """n executions (each one outbox row); with both_shards, more until each shard has one: ids
    pick their shard at random, and 8 land on one shard alone once in 128 runs."""
    register = await api.client.post("/api/catalog/register", json={"content": PLAYBOOK})
    assert register.status_code == 200, register.text
    ids: list[int] = []
    while len(ids) < n or (both_shards and {shard_for(e, 2) for e in ids} != {0, 1}):
        assert len(ids) < n + 64, "64 more executions and still one shard has none"
        response = await api.client.post("/api/execute", json={"path": "tests/internal/outbox"})
        assert response.status_code == 200, response.text
        ids.append(int(response.json()["execution_id"]))
    return ids


def outbox_rows(api: Api) -> list[tuple[int, int, str]]:
    """(shard, outbox_id, status) of every outbox row of both shards."""
    found = []
    for shard, dsn in enumerate(api.dbs.shard_dsns):
        with psycopg.connect(dsn) as conn:
            found += [(shard, *row) for row in conn.execute("SELECT outbox_id, status FROM noetl.outbox")]
    return found


def reset_outbox(api: Api) -> None:
    for dsn in api.dbs.shard_dsns:
        with psycopg.connect(dsn) as conn:
            conn.execute("UPDATE noetl.outbox SET status = 'PUBLISHED', published_at = now()")


async def internal(api: Api, path: str, body: dict | None = None) -> dict:
    response = await api.client.post(path, json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


async def pending(api: Api) -> int:
    response = await api.client.get("/api/internal/outbox/pending-count", headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()["pending"]


# ---- authentication (§1.10) ------------------------------------------------------------------

@pytest.mark.parametrize("header", [None, "Basic dGVzdDp0ZXN0", "Bearer", "Bearer wrong-token",
                                    f"Token {INTERNAL_TOKEN}"])
async def test_a_missing_or_wrong_bearer_is_403(api: Api, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    for method, path in (("GET", "/api/internal/outbox/pending-count"), ("POST", "/api/internal/outbox/claim"),
                         ("POST", "/api/internal/outbox/mark-published"),
                         ("POST", "/api/internal/outbox/mark-failed"), ("POST", "/api/internal/events/project")):
        response = await api.client.request(method, path, headers=headers)
        assert_error(response, 403, "forbidden")


async def test_the_bearer_scheme_is_case_insensitive_and_the_token_trimmed(api: Api) -> None:
    response = await api.client.get("/api/internal/outbox/pending-count",
                                    headers={"Authorization": f"bEaReR \t {INTERNAL_TOKEN}"})
    assert response.status_code == 200, response.text


async def test_auth_runs_before_the_body_is_read_and_after_routing(api: Api) -> None:
    bad_body = await api.client.post("/api/internal/outbox/claim", content=b"{not json",
                                      headers={"Authorization": "Bearer nope"})
    assert_error(bad_body, 403, "forbidden")
    huge = await api.client.post("/api/internal/outbox/mark-published", content=b"x" * (5 << 20),
                                 headers={"Authorization": "Bearer nope"})
    assert_error(huge, 403, "forbidden")
    wrong_method = await api.client.get("/api/internal/outbox/claim")
    detail = assert_error(wrong_method, 405, "method_not_allowed")
    assert "POST" in wrong_method.headers["allow"] and detail["message"]
    preflight = await api.client.options("/api/internal/outbox/claim",
                                         headers={"Origin": "http://gui", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200


@pytest.fixture(scope="module")
async def unconfigured(api: Api) -> AsyncIterator[Api]:
    async with serve(settings_for(api.dbs, "nats://127.0.0.1:1", NOETL_INTERNAL_API_TOKEN="  "), api.dbs) as other:
        yield other


async def test_an_unset_token_disables_the_internal_api_with_503(unconfigured: Api) -> None:
    for headers in ({}, AUTH):
        response = await unconfigured.client.post("/api/internal/outbox/claim", headers=headers)
        assert_error(response, 503, "internal_api_unconfigured")
        assert int(response.headers["retry-after"]) >= 1
    assert_error(await unconfigured.client.post("/api/internal/events/project", json={"events": []}), 503,
                 "internal_api_unconfigured")


# ---- outbox ----------------------------------------------------------------------------------

async def test_claim_mark_published_and_pending_count_across_shards(api: Api) -> None:
    reset_outbox(api)
    assert await pending(api) == 0
    executions = await start_executions(api, 8, both_shards=True)
    n = len(executions)
    assert await pending(api) == n

    first = await internal(api, "/api/internal/outbox/claim", {"limit": 3})
    assert first["claimed"] == len(first["rows"]) == 3
    row = first["rows"][0]
    assert set(row) == {"outbox_id", "event_id", "execution_id", "subject", "payload", "payload_codec",
                        "attempts", "msg_id"}
    assert isinstance(row["outbox_id"], int) and isinstance(row["event_id"], int)
    assert isinstance(row["execution_id"], int) and row["execution_id"] in executions
    assert row["subject"] == f"noetl.commands.shared.{row['execution_id']}" and row["payload_codec"] == "json"
    assert row["attempts"] == 1 and row["msg_id"] == str(row["event_id"])
    assert row["payload"]["execution_id"] == row["execution_id"] and row["payload"]["step"] == "start"
    assert await pending(api) == n - 3

    rest = await internal(api, "/api/internal/outbox/claim", {"limit": 1000})
    assert rest["claimed"] == n - 3
    claimed = first["rows"] + rest["rows"]
    assert {r["execution_id"] for r in claimed} == set(executions)
    by_shard = [[r["outbox_id"] for r in rest["rows"] if shard_index_of_minted_id(r["outbox_id"], 2) == s]
                for s in (0, 1)]
    assert all(ids == sorted(ids) for ids in by_shard), "each shard's rows come in outbox_id order"
    assert await internal(api, "/api/internal/outbox/claim", {}) == {"rows": [], "claimed": 0}

    ids = [r["outbox_id"] for r in claimed]
    marked = await internal(api, "/api/internal/outbox/mark-published", {"outbox_ids": [str(i) for i in ids]})
    assert marked == {"marked": n}
    again = await internal(api, "/api/internal/outbox/mark-published", {"outbox_ids": ids + [ids[0], 42]})
    assert again == {"marked": n}, "re-marking is idempotent; duplicates and unknown ids add nothing"
    assert {status for _, outbox_id, status in outbox_rows(api) if outbox_id in ids} == {"PUBLISHED"}
    assert await pending(api) == 0


async def test_claims_rotate_so_no_shard_starves(api: Api) -> None:
    reset_outbox(api)
    await start_executions(api, 8, both_shards=True)
    shards = set()
    for _ in range(4):
        rows = (await internal(api, "/api/internal/outbox/claim", {"limit": 1}))["rows"]
        shards |= {shard_for(r["execution_id"], 2) for r in rows}
    assert shards == {0, 1}


async def test_mark_failed_backs_off_and_never_downgrades_a_published_row(api: Api) -> None:
    reset_outbox(api)
    await start_executions(api, 2)
    rows = (await internal(api, "/api/internal/outbox/claim", {"limit": 2}))["rows"]
    failed, published = rows[0]["outbox_id"], rows[1]["outbox_id"]
    answer = await internal(api, "/api/internal/outbox/mark-failed", {"outbox_id": failed, "error": "nats down"})
    assert answer == {"marked": True, "available_at_in": 1}
    answer = await internal(api, "/api/internal/outbox/mark-failed",
                            {"outbox_id": str(failed), "error": "again", "attempts": 5, "max_delay_seconds": 10})
    assert answer == {"marked": True, "available_at_in": 10}
    assert dict((o, s) for _, o, s in outbox_rows(api))[failed] == "FAILED"
    await internal(api, "/api/internal/outbox/mark-published", {"outbox_ids": [published]})
    answer = await internal(api, "/api/internal/outbox/mark-failed", {"outbox_id": published, "error": "late"})
    assert answer == {"marked": False, "available_at_in": 1}
    assert dict((o, s) for _, o, s in outbox_rows(api))[published] == "PUBLISHED"
    answer = await internal(api, "/api/internal/outbox/mark-failed", {"outbox_id": 12345, "error": "x", "attempts": 9})
    assert answer == {"marked": False, "available_at_in": 256}, "a missing row is marked false"


async def test_the_claim_limit_comes_from_the_body_only(api: Api) -> None:
    reset_outbox(api)
    await start_executions(api, 3)
    response = await api.client.post("/api/internal/outbox/claim?limit=1", json={"limit": 2}, headers=AUTH)
    assert response.json()["claimed"] == 2
    response = await api.client.post("/api/internal/outbox/claim?limit=0", headers=AUTH)
    assert response.status_code == 200 and response.json()["claimed"] == 1, "an empty body means the default"


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/internal/outbox/claim", {"limit": 0}, "limit"),
    ("/api/internal/outbox/claim", {"limit": 1001}, "limit"),
    ("/api/internal/outbox/claim", {"limit": "many"}, "limit"),
    ("/api/internal/outbox/claim", {"limit": 2.5}, "limit"),
    ("/api/internal/outbox/mark-published", {}, "outbox_ids"),
    ("/api/internal/outbox/mark-published", {"outbox_ids": []}, "outbox_ids"),
    ("/api/internal/outbox/mark-published", {"outbox_ids": "1,2"}, "outbox_ids"),
    ("/api/internal/outbox/mark-published", {"outbox_ids": [1, 1.5, "x"]}, "outbox_ids"),
    ("/api/internal/outbox/mark-failed", {"error": "x"}, "outbox_id"),
    ("/api/internal/outbox/mark-failed", {"outbox_id": 1}, "error"),
    ("/api/internal/outbox/mark-failed", {"outbox_id": 1, "error": "  "}, "error"),
    ("/api/internal/outbox/mark-failed", {"outbox_id": 1, "error": "a\u0000b"}, "error"),
    ("/api/internal/outbox/mark-failed", {"outbox_id": 1, "error": "x", "attempts": 0}, "attempts"),
    ("/api/internal/outbox/mark-failed", {"outbox_id": 1, "error": "x", "max_delay_seconds": 0}, "max_delay_seconds"),
    ("/api/internal/outbox/mark-failed", {"outbox_id": 1, "error": "x", "attempts": 2**40}, "attempts"),
    ("/api/internal/outbox/mark-failed", {"outbox_id": 2**64, "error": "x"}, "outbox_id"),
    ("/api/internal/events/project", {}, "events"),
    ("/api/internal/events/project", {"events": []}, "events"),
    ("/api/internal/events/project", {"events": {"event_id": 1}}, "events"),
    ("/api/internal/events/project", {"events": [{}] * 1001}, "events"),
])
async def test_invalid_bodies_are_422_naming_the_field(api: Api, path: str, body: dict, field: str) -> None:
    detail = assert_error(await api.client.post(path, json=body, headers=AUTH), 422, "validation_error")
    assert {tuple(e["loc"][:2]) for e in detail["errors"]} == {("body", field)}, detail


async def test_every_bad_id_of_a_list_is_reported_at_its_index(api: Api) -> None:
    response = await api.client.post("/api/internal/outbox/mark-published", json={"outbox_ids": [1, 1.5, "x"]},
                                     headers=AUTH)
    detail = assert_error(response, 422, "validation_error")
    assert [e["loc"] for e in detail["errors"]] == [["body", "outbox_ids", 1], ["body", "outbox_ids", 2]]


async def test_malformed_and_non_object_bodies(api: Api) -> None:
    for path in ("/api/internal/outbox/claim", "/api/internal/events/project"):
        assert_error(await api.client.post(path, content=b"{oops", headers=AUTH), 400, "invalid_json")
        assert_error(await api.client.post(path, content=b"[1]", headers=AUTH), 422, "validation_error")
    assert_error(await api.client.post("/api/internal/outbox/mark-failed", headers=AUTH), 422, "validation_error")


# ---- events/project --------------------------------------------------------------------------

def shard_events(api: Api, execution_id: int) -> list[tuple[int, int | None, int, str]]:
    dsn = api.dbs.shard_dsns[shard_for(execution_id, 2)]
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT event_id, stream_version, catalog_id, producer FROM noetl.event"
                            " WHERE execution_id = %s AND producer = 'projection' ORDER BY event_id",
                            [execution_id]).fetchall()


async def test_project_then_re_project(api: Api) -> None:
    [known] = await start_executions(api, 1)
    unknown = next(i for i in range(10**15, 10**15 + 50) if shard_for(i, 2) != shard_for(known, 2))
    events = [
        {"event_id": 900001, "execution_id": str(known), "event_type": "step.enter", "node_name": "start"},
        {"event_id": "900002", "execution_id": unknown, "event_type": "x", "catalog_id": "77",
         "timestamp": "2026-06-04T06:51:26.037Z"},
    ]
    first = await internal(api, "/api/internal/events/project", {"events": events})
    assert first == {"projected": 2, "duplicates": 0, "rejected": []}
    second = await internal(api, "/api/internal/events/project", {"events": events[1:]})
    assert second == {"projected": 0, "duplicates": 1, "rejected": []}
    [(event_id, seq, _, producer)] = shard_events(api, known)
    assert event_id == 900001 and seq is not None and producer == "projection"
    assert shard_events(api, unknown) == [(900002, None, 77, "projection")]
    status = (await api.client.get(f"/api/executions/{known}/status")).json()
    assert status["status"] == "RUNNING", "a projected event never drives orchestration"


async def test_bad_envelopes_are_rejected_by_index_and_the_rest_stored(api: Api) -> None:
    [known] = await start_executions(api, 1)
    events = [
        {"event_id": 910001, "execution_id": known, "event_type": "good"},
        "text",
        {"event_id": 1.5, "execution_id": known, "event_type": "x"},
        {"event_id": 910002, "execution_id": 1e3, "event_type": "x"},
        {"event_id": 910003, "execution_id": known},
        {"event_id": 910004, "execution_id": known, "event_type": "x", "result": {"status": "OK", "extra": 1}},
        {"event_id": 910005, "execution_id": 555, "event_type": "x"},
        {"event_id": 910006, "execution_id": known, "event_type": "x", "context": {"k": "a\u0000b"}},
        {"event_id": 910007, "execution_id": known, "event_type": "good too", "status": "success"},
    ]
    answer = await internal(api, "/api/internal/events/project", {"events": events})
    assert answer["projected"] == 2 and answer["duplicates"] == 0
    assert [r["index"] for r in answer["rejected"]] == [1, 2, 3, 4, 5, 6, 7]
    reasons = {r["index"]: r["reason"] for r in answer["rejected"]}
    assert "event_id" in reasons[2] and "execution_id" in reasons[3] and "event_type" in reasons[4]
    assert "result" in reasons[5] and "catalog_id" in reasons[6] and "NUL" in reasons[7]
    assert [e[0] for e in shard_events(api, known)] == [910001, 910007]


async def test_project_accepts_a_large_body_up_to_its_own_limit(api: Api) -> None:
    [known] = await start_executions(api, 1)
    big = {"events": [{"event_id": 920000 + i, "execution_id": known, "event_type": "bulk",
                       "context": {"blob": "x" * 5000}} for i in range(1000)]}
    answer = await internal(api, "/api/internal/events/project", big)
    assert answer == {"projected": 1000, "duplicates": 0, "rejected": []}, "a 5 MB body passes the 16 MiB limit"
