"""Catalog routes (http-api §2.1): register (plain and base64, executable and other kinds,
invalid documents), list with filters, fetch one entry, ui_schema."""

from __future__ import annotations

import base64

from tests.api.conftest import Api, assert_error

HELLO = """apiVersion: noetl.io/v2
kind: Playbook
metadata:
  name: hello
  path: tests/catalog/hello
  description: says hello
workload:
  greeting: hi  # ui:description=What to say ui:enum=[hi,hello]
  token: abc  # ui:secret ui:credential=api_*
  batch: 10
  nested: {a: 1, b: [1, 2]}
workflow:
  - step: start
    tool: {kind: python, code: "result = {'ok': True}"}
    next: end
  - step: end
    tool: {kind: noop}
"""

CREDENTIAL_DOC = """kind: Credential
metadata: {name: pg_doc, path: creds/pg_doc}
spec: {type: postgres}
"""


async def register(api: Api, content: str, **extra) -> dict:
    response = await api.client.post("/api/catalog/register", json={"content": content, **extra})
    assert response.status_code == 200, response.text
    return response.json()


async def test_register_a_playbook_from_base64_like_the_cli(api: Api) -> None:
    body = await register(api, base64.b64encode(HELLO.encode()).decode(), resource_type="Playbook")
    assert body["status"] == "success"
    assert body["path"] == "tests/catalog/hello" and body["kind"] == "playbook"
    assert isinstance(body["catalog_id"], str) and body["catalog_id"].isdigit()
    assert body["message"] == f"Resource 'tests/catalog/hello' version '{body['version']}' registered."


async def test_re_registering_creates_the_next_version(api: Api) -> None:
    first = await register(api, HELLO.replace("tests/catalog/hello", "tests/catalog/versions"))
    second = await register(api, HELLO.replace("tests/catalog/hello", "tests/catalog/versions"))
    assert (first["version"], second["version"]) == (1, 2)
    assert first["catalog_id"] != second["catalog_id"]


async def test_non_executable_kinds_are_stored_without_compiling(api: Api) -> None:
    body = await register(api, CREDENTIAL_DOC)
    assert body["kind"] == "credential" and body["path"] == "creds/pg_doc"
    body = await register(api, "metadata: {name: plain}\nanything: [1]\n", resource_type="Memory")
    assert body["kind"] == "memory" and body["path"] == "plain"


async def test_register_errors(api: Api) -> None:
    assert_error(await api.client.post("/api/catalog/register", json={}), 422, "validation_error")
    assert_error(await api.client.post("/api/catalog/register", json={"content": 5}), 422, "validation_error")
    assert_error(await api.client.post("/api/catalog/register", json={"content": "  "}), 422, "validation_error")
    detail = assert_error(await api.client.post("/api/catalog/register", json={"content": "a: [1"}), 422,
                          "invalid_playbook")
    assert detail["errors"][0]["code"] == "E_YAML" and "line" in detail["errors"][0]
    assert_error(await api.client.post("/api/catalog/register", json={"content": "- 1\n- 2\n"}), 422,
                 "invalid_playbook")
    detail = assert_error(await api.client.post("/api/catalog/register", json={"content": "kind: Playbook\n"}),
                          422, "invalid_playbook")
    assert detail["message"] == "Missing 'path' or 'name' in metadata"


async def test_a_workflow_the_compiler_rejects_is_invalid_playbook(api: Api) -> None:
    broken = "kind: Playbook\nmetadata: {name: broken, path: t/broken}\nworkflow:\n  - step: a\n    next: nowhere\n"
    detail = assert_error(await api.client.post("/api/catalog/register", json={"content": broken}), 422,
                          "invalid_playbook")
    assert detail["path"] == "t/broken"
    assert all({"code", "at", "message"} <= set(e) for e in detail["errors"])


async def test_an_expression_outside_the_subset_is_unsupported_expression(api: Api) -> None:
    doc = ("kind: Playbook\nmetadata: {name: expr, path: t/expr}\nworkflow:\n"
           "  - step: start\n    tool: {kind: noop}\n    next:\n"
           "      - step: end\n        when: \"{{ range(3) | map('x') | list }}\"\n"
           "  - step: end\n    tool: {kind: noop}\n")
    response = await api.client.post("/api/catalog/register", json={"content": doc})
    detail = assert_error(response, 422, response.json()["detail"]["code"])
    assert detail["code"] in ("unsupported_expression", "invalid_playbook")
    if detail["code"] == "unsupported_expression":
        assert all(e["code"] == "E_EXPRESSION" for e in detail["errors"])


async def test_list_filters_by_kind_and_path_newest_first(api: Api) -> None:
    await register(api, HELLO.replace("tests/catalog/hello", "tests/catalog/listed"))
    await register(api, HELLO.replace("tests/catalog/hello", "tests/catalog/listed"))
    response = await api.client.post("/api/catalog/list", json={"resource_type": "Playbook"})
    entries = response.json()["entries"]
    assert entries and all(e["kind"] == "playbook" for e in entries)
    listed = [e for e in entries if e["path"] == "tests/catalog/listed"]
    assert [e["version"] for e in listed] == [2, 1]
    entry = listed[0]
    assert set(entry) == {"catalog_id", "path", "version", "kind", "content", "layout", "payload", "meta",
                          "created_at"}
    assert entry["payload"]["metadata"]["name"] == "hello" and entry["layout"] is None
    assert entry["meta"]["agent"] is False and entry["meta"]["capabilities"] == []
    assert entry["created_at"].endswith("Z") and len(entry["created_at"]) == 27
    by_path = (await api.client.post("/api/catalog/list", json={"path": "tests/catalog/listed"})).json()
    assert len(by_path["entries"]) == 2
    assert (await api.client.post("/api/catalog/list")).status_code == 200
    assert (await api.client.post("/api/catalog/list", json={"resource_type": "Nothing"})).json() == {"entries": []}


async def test_list_agent_filters(api: Api) -> None:
    agent = HELLO.replace("tests/catalog/hello", "tests/catalog/agent").replace(
        "  description: says hello\n", "  description: says hello\n  agent: true\n  capabilities: [search]\n")
    await register(api, agent)
    entries = (await api.client.post("/api/catalog/list", json={"capability": "search"})).json()["entries"]
    assert [e["path"] for e in entries] == ["tests/catalog/agent"]
    assert (await api.client.post("/api/catalog/list", json={"capabilities": ["nope"]})).json()["entries"] == []
    assert_error(await api.client.post("/api/catalog/list", json={"capabilities": "search"}), 422,
                 "validation_error")


async def test_resource_by_path_version_and_id(api: Api) -> None:
    path = "tests/catalog/resource"
    first = await register(api, HELLO.replace("tests/catalog/hello", path))
    second = await register(api, HELLO.replace("tests/catalog/hello", path))
    latest = (await api.client.post("/api/catalog/resource", json={"path": path, "version": "latest"})).json()
    assert latest["version"] == 2
    assert (await api.client.post("/api/catalog/resource", json={"path": path, "version": "1"})).json()["version"] == 1
    by_id = await api.client.post("/api/catalog/resource", json={"catalog_id": int(first["catalog_id"])})
    assert by_id.json()["catalog_id"] == first["catalog_id"]
    assert second["catalog_id"] != first["catalog_id"]


async def test_resource_errors(api: Api) -> None:
    assert_error(await api.client.post("/api/catalog/resource", json={}), 422, "validation_error")
    assert_error(await api.client.post("/api/catalog/resource", json={"path": "x", "version": 0}), 422,
                 "validation_error")
    assert_error(await api.client.post("/api/catalog/resource", json={"catalog_id": 1.5}), 422, "validation_error")
    assert_error(await api.client.post("/api/catalog/resource", json={"path": "no/such"}), 404, "catalog_not_found")
    assert_error(await api.client.post("/api/catalog/resource", json={"path": "tests/catalog/hello", "version": 99}),
                 404, "catalog_not_found")


async def test_ui_schema_infers_fields_in_document_order(api: Api) -> None:
    await register(api, HELLO.replace("tests/catalog/hello", "tests/catalog/ui"))
    response = await api.client.get("/api/catalog/tests/catalog/ui/ui_schema")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == "hello" and body["description_markdown"] == "says hello"
    fields = {f["name"]: f for f in body["fields"]}
    assert [f["name"] for f in body["fields"]] == ["greeting", "token", "batch", "nested"]
    assert fields["greeting"]["kind"] == "enum" and fields["greeting"]["options"] == ["hi", "hello"]
    assert fields["greeting"]["description"] == "What to say"
    assert fields["token"]["secret"] is True and fields["token"]["credential_glob"] == "api_*"
    assert fields["batch"]["kind"] == "integer" and fields["batch"]["default"] == 10
    assert [c["name"] for c in fields["nested"]["children"]] == ["a", "b"]
    encoded = await api.client.get("/api/catalog/tests%2Fcatalog%2Fui/ui_schema")
    assert encoded.status_code == 200 and encoded.json()["path"] == "tests/catalog/ui"


async def test_ui_schema_errors(api: Api) -> None:
    assert_error(await api.client.get("/api/catalog/no/such/ui_schema"), 404, "catalog_not_found")
    assert_error(await api.client.get("/api/catalog/tests/catalog/ui"), 404, "route_not_found")
    assert_error(await api.client.get("/api/catalog/tests/catalog/ui/ui_schema?version=x"), 422, "validation_error")
