"""Execution variables over HTTP with two shards (http-api §2.8): the three body forms, reads
that bump or do not bump access counters, deletes, and every error path."""

from __future__ import annotations

from tests.api.conftest import Api, assert_error

X = 320816801799737344  # no such execution: the vars routes do not check existence
Y = 320816801799737345


async def test_map_form_then_reads(api: Api) -> None:
    response = await api.client.post(f"/api/vars/{X}", json={
        "variables": {"test_user_id": "999", "n": None}, "var_type": "step_result", "source_step": "setup"})
    assert response.status_code == 200, response.text
    assert response.json() == {"execution_id": X, "variables_set": 2, "var_names": ["test_user_id", "n"], "status": "ok"}
    listed = (await api.client.get(f"/api/vars/{X}")).json()
    assert listed["execution_id"] == X and listed["count"] == 2
    record = listed["variables"]["test_user_id"]
    assert record["value"] == "999" and record["type"] == "step_result" and record["source_step"] == "setup"
    assert record["access_count"] == 0 and record["created_at"].endswith("Z")
    assert listed["variables"]["n"]["value"] is None
    one = (await api.client.get(f"/api/vars/{X}/test_user_id")).json()
    assert one["execution_id"] == X and one["var_name"] == "test_user_id"
    assert one["value"] == one["var_value"] == "999" and one["type"] == one["var_type"] == "step_result"
    assert one["access_count"] == 1
    assert (await api.client.get(f"/api/vars/{X}/test_user_id")).json()["access_count"] == 2
    assert (await api.client.get(f"/api/vars/{X}")).json()["variables"]["test_user_id"]["access_count"] == 2


async def test_list_and_flat_forms_and_bearer_token(api: Api) -> None:
    listed = await api.client.post(f"/api/vars/{Y}", json={"variables": [
        {"var_name": "a", "var_value": 42, "var_type": "computed", "source_step": "x"},
        {"var_name": "b", "var_value": {"k": [1]}}]})
    assert listed.json()["var_names"] == ["a", "b"]
    flat = await api.client.post(f"/api/vars/{Y}", json={"api_counter": 42, "variables": "literal"})
    assert flat.json()["var_names"] == ["api_counter", "variables"]
    token = await api.client.post(f"/api/vars/{Y}", json={"variables": {"tok": "abc"}, "var_type": "bearer_token"})
    assert token.status_code == 200
    got = (await api.client.get(f"/api/vars/{Y}")).json()["variables"]
    assert got["a"]["type"] == "computed" and got["a"]["source_step"] == "x" and got["a"]["value"] == 42
    assert got["b"]["type"] == "user_defined" and got["b"]["value"] == {"k": [1]}
    assert got["api_counter"]["value"] == 42 and got["variables"]["value"] == "literal"
    assert got["tok"]["type"] == "user_defined"  # bearer_token is stored as user_defined
    again = await api.client.post(f"/api/vars/{Y}", json={"api_counter": 43})
    assert again.status_code == 200
    assert (await api.client.get(f"/api/vars/{Y}/api_counter")).json()["value"] == 43


async def test_deletes(api: Api) -> None:
    z = X + 10
    await api.client.post(f"/api/vars/{z}", json={"a": 1, "b": 2, "c": 3})
    one = (await api.client.delete(f"/api/vars/{z}/a")).json()
    assert one == {"execution_id": z, "var_name": "a", "deleted": True, "status": "deleted"}
    missing = (await api.client.delete(f"/api/vars/{z}/a")).json()
    assert missing["deleted"] is False and missing["status"] == "not_found"
    everything = (await api.client.delete(f"/api/vars/{z}")).json()
    assert everything == {"execution_id": z, "deleted_count": 2, "variables_deleted": 2, "status": "ok"}
    assert (await api.client.get(f"/api/vars/{z}")).json() == {"execution_id": z, "count": 0, "variables": {}}


async def test_vars_errors(api: Api) -> None:
    detail = assert_error(await api.client.get(f"/api/vars/{X}/nope"), 404, "variable_not_found")
    assert detail["var_name"] == "nope"
    assert_error(await api.client.get("/api/vars/abc"), 422, "validation_error")
    assert_error(await api.client.get("/api/vars/abc/x"), 422, "validation_error")
    assert_error(await api.client.delete("/api/vars/1.5"), 422, "validation_error")
    assert_error(await api.client.delete("/api/vars/abc/x"), 422, "validation_error")
    assert_error(await api.client.post(f"/api/vars/{X}", json={}), 422, "validation_error")
    detail = assert_error(await api.client.post(f"/api/vars/{X}", json={"variables": {}}), 422, "validation_error")
    assert detail["errors"][0]["loc"] == ["body", "variables"]
    detail = assert_error(await api.client.post(f"/api/vars/{X}", json={"variables": {"a": 1}, "var_type": "weird"}),
                          422, "validation_error")
    assert detail["errors"][0]["loc"] == ["body", "var_type"]
    detail = assert_error(await api.client.post(f"/api/vars/{X}", json={"variables": [{"var_value": 1}, 3]}),
                          422, "validation_error")
    assert [e["loc"] for e in detail["errors"]] == [["body", "variables", 0, "var_name"], ["body", "variables", 1]]
    detail = assert_error(await api.client.post(f"/api/vars/{X}", json={"variables": {" ": 1}}), 422, "validation_error")
    assert detail["errors"][0]["loc"] == ["body", "variables", " "]
    assert_error(await api.client.post(f"/api/vars/{X}", content=b"[1]"), 422, "validation_error")
    assert_error(await api.client.post(f"/api/vars/{X}", content=b"{"), 400, "invalid_json")
    assert_error(await api.client.post("/api/vars/abc", json={"a": 1}), 422, "validation_error")
    assert_error(await api.client.put(f"/api/vars/{X}", json={"a": 1}), 405, "method_not_allowed")
