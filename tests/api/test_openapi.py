"""The OpenAPI document: committed, served, current, and covering every route the app serves
(and nothing the contract does not list)."""

from __future__ import annotations

import json
import re

from sanic_app.openapi import DOCUMENT, build, render
from tests.api.conftest import Api

# Sanic route template -> OpenAPI path template
_PARAM = re.compile(r"<([a-z_]+)(?::[a-z]+)?>")
# Routes whose Sanic template differs from the documented path
_ALIASES = {"/api/catalog/{rest}": "/api/catalog/{path}/ui_schema"}


def served_operations(api: Api) -> set[tuple[str, str]]:
    found = set()
    for route in api.app.router.routes:
        path = "/" + _PARAM.sub(r"{\1}", route.path).strip("/")
        path = _ALIASES.get(path, path)
        found |= {(method.lower(), path) for method in route.methods if method not in ("HEAD", "OPTIONS")}
    return found


def documented_operations() -> set[tuple[str, str]]:
    return {(method, path) for path, item in build()["paths"].items() for method in item}


def test_the_committed_document_is_current() -> None:
    assert DOCUMENT.read_text() == render(), "run: python -m sanic_app.openapi --write"


async def test_the_document_is_served(api: Api) -> None:
    response = await api.client.get("/api/openapi.json")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    assert response.json() == json.loads(DOCUMENT.read_text())
    assert response.json()["openapi"].startswith("3.1")


async def test_every_served_route_is_documented(api: Api) -> None:
    missing = served_operations(api) - documented_operations()
    assert not missing, f"routes missing from sanic_app/openapi.py: {sorted(missing)}"


def test_every_operation_has_an_error_answer_and_internal_ones_a_bearer() -> None:
    for path, item in build()["paths"].items():
        for method, operation in item.items():
            assert "default" in operation["responses"], (method, path)
            assert ("security" in operation) == path.startswith("/api/internal/"), (method, path)
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == set(re.findall(r"{([a-z_]+)}", path)), (method, path)
