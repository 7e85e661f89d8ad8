"""Floats keep their kind on the way into jsonb: the app's JSON writer spells out a float that
json.dumps would write with an exponent, which jsonb would otherwise read back as an integer."""

from __future__ import annotations

import json

import psycopg
import pytest

from sanic_app.wire import dumps
from tests.harness import Templates


@pytest.mark.parametrize(("value", "text"), [(1e16, "1e+16x"), (2.0, "2.0x"), (10**16, "10000000000000000x"),
                                             (1e-7, "1e-07x")])
def test_a_float_stored_by_the_app_renders_as_jinja_would(value: object, text: str, templates: Templates) -> None:
    name = templates.fresh("shard", prefix="floats")
    try:
        with psycopg.connect(templates.pg.dsn(name)) as conn:
            rendered = conn.execute(
                "SELECT noetl.eval_value(%s::jsonb, %s::jsonb)",
                ('{"tpl": [{"k": "name", "n": "v"}, "x"]}', dumps({"v": value})),
            ).fetchone()[0]
    finally:
        templates.drop(name)
    assert rendered == text


def test_strings_that_look_like_exponents_are_kept() -> None:
    assert dumps({"s": "1e5", "f": 1e16}) == '{"s": "1e5", "f": 10000000000000000.0}'
    assert json.loads(dumps({"s": "1e5", "n": [1, 2.5]})) == {"s": "1e5", "n": [1, 2.5]}
