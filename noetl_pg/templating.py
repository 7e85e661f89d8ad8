"""The claim-time Jinja2 environment (engine.md §4.7.1) and the functions that render with it.

Tool configurations (at claim) and the workload (at execute) are rendered here with full, sandboxed
Jinja2; control-flow fields are evaluated in SQL by `noetl.eval_value`. The custom filters below give
both places the same meaning for a value (engine.md §3.8), and this module is the reference the
conformance test compares the SQL evaluator with.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jinja2 import nodes
from jinja2.environment import Template, TemplateExpression
from jinja2.filters import do_int
from jinja2.runtime import ChainableUndefined, Undefined
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from noetl_pg.expr import has_template, is_single_expression, single_output_expr

__all__ = [
    "RenderError",
    "environment",
    "is_single_expression",
    "jsonb_key_order",
    "json_dumps",
    "native_render",
    "render_structure",
    "render_text",
    "guard",
]


# Python's str.isspace() set, which also is what §3.5 and §3.8 call whitespace.
_WS = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006" \
      "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_INT_SYNTAX = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*\Z")
_FLOAT_SYNTAX = re.compile(
    r"[+-]?(?:(?:[0-9](?:_?[0-9])*)?\.[0-9](?:_?[0-9])*|[0-9](?:_?[0-9])*\.?)"
    r"(?:[eE][+-]?[0-9](?:_?[0-9])*)?\Z"
)
_FLOAT_WORDS = re.compile(r"[+-]?(?:inf|infinity|nan)\Z", re.IGNORECASE)
_FALSE_WORDS = frozenset({"", "false", "0", "no", "none", "null", "off"})


class RenderError(Exception):
    """A template that cannot be rendered (syntax, evaluation, or a value JSON cannot hold)."""


# ---------------------------------------------------------------------------------------------
# Value rules shared with SQL
# ---------------------------------------------------------------------------------------------


def jsonb_key_order(keys: Any) -> list[str]:
    """Keys in PostgreSQL's jsonb order: shorter (in UTF-8 bytes) first, then bytewise."""
    return sorted(keys, key=lambda k: (len(k.encode()), k.encode()))


def _ordered_keys(value: Mapping[str, Any]) -> list[str]:
    return jsonb_key_order(value.keys())


def guard(value: Any) -> bool:
    """The guard rule of §3.5 (also the `bool` filter): like Python truth, except strings, which
    are false when trimmed and lower-cased they are '', false, 0, no, none, null or off."""
    if isinstance(value, Undefined) or value is None:
        return False
    if isinstance(value, str):
        return value.strip(_WS).lower() not in _FALSE_WORDS
    return bool(value)


def _parse_float(text: str) -> float | None:
    """Python float() restricted to ASCII digits (§3.8, deviation 10); None when not a float."""
    s = text.strip(_WS)
    if _FLOAT_WORDS.match(s) or _FLOAT_SYNTAX.match(s):
        return float(s)
    return None


def _filter_int(value: Any, default: Any = 0) -> Any:
    """§3.8 `int`: integer syntax, then float syntax truncated (inf and nan give the default)."""
    if isinstance(value, str):
        s = value.strip(_WS)
        if _INT_SYNTAX.match(s):
            return int(s)
        f = _parse_float(s)
        if f is None or not math.isfinite(f):
            return default
        return int(f)
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return do_int(value, default)


def _filter_float(value: Any, default: Any = 0.0) -> Any:
    """§3.8 `float`: ASCII float syntax; a non-finite result is an error."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if isinstance(value, str):
        f = _parse_float(value)
        if f is None:
            return default
    else:
        try:
            f = float(value)
        except (TypeError, ValueError):
            return default
    if not math.isfinite(f):
        raise OverflowError("float filter: non-finite float")
    return f


def _keys(value: Any) -> list[Any]:
    if isinstance(value, Undefined):
        return []
    if isinstance(value, Mapping):
        return _ordered_keys(value)
    raise TypeError(f"keys filter: expected an object, got {type(value).__name__}")


def _values(value: Any) -> list[Any]:
    if isinstance(value, Undefined):
        return []
    if isinstance(value, Mapping):
        return [value[k] for k in _ordered_keys(value)]
    raise TypeError(f"values filter: expected an object, got {type(value).__name__}")


def _iter_items(value: Any) -> list[Any]:
    """What first/last/list/join iterate: objects by key in jsonb order."""
    if isinstance(value, Mapping):
        return _ordered_keys(value)
    return list(value)


def _first(value: Any) -> Any:
    items = _iter_items(value)
    return items[0] if items else ChainableUndefined(hint="No first item, sequence was empty.")


def _last(value: Any) -> Any:
    items = _iter_items(value)
    return items[-1] if items else ChainableUndefined(hint="No last item, sequence was empty.")


def _list(value: Any) -> list[Any]:
    return _iter_items(value)


def _join(value: Any, d: Any = "", attribute: Any = None) -> str:
    if attribute is not None:
        raise TypeError("join filter: attribute= is not supported")
    return str(d).join(str(item) for item in _iter_items(value))


def _trim(value: Any, chars: Any = None) -> str:
    return str(value).strip(_WS if chars is None else str(chars))


def _tojson(value: Any, indent: Any = None) -> str:
    """Jinja2's tojson (sorted keys, HTML-safe escapes) with undefined as null (§3.8). The result
    is a plain string, not Markup, so a list holding it prints as in SQL (`['1']`)."""
    if indent is not None:
        raise TypeError("tojson filter: indent is not supported")
    text = json.dumps(_plain(value), sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")


def _plain(value: Any) -> Any:
    if isinstance(value, Undefined):
        return None
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _b64encode(value: Any) -> str:
    return base64.b64encode(str(value).encode()).decode()


def _b64decode(value: Any) -> str:
    return base64.b64decode(str(value).encode()).decode()


def _fromjson(value: Any) -> Any:
    return json.loads(str(value))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


# ---------------------------------------------------------------------------------------------
# The environment
# ---------------------------------------------------------------------------------------------


class _Environment(SandboxedEnvironment):
    """`o.a` on a mapping reads the key `a` when present (so `d.items` is the key, not the method)."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping):
            try:
                if attribute in obj:
                    return obj[attribute]
            except TypeError:
                pass
        return super().getattr(obj, attribute)


_CUSTOM_FILTERS: dict[str, Callable[..., Any]] = {
    "bool": guard,
    "keys": _keys,
    "values": _values,
    "tojson": _tojson,
    "int": _filter_int,
    "float": _filter_float,
    "first": _first,
    "last": _last,
    "list": _list,
    "join": _join,
    "trim": _trim,
    "b64encode": _b64encode,
    "b64decode": _b64decode,
    "fromjson": _fromjson,
}


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    """The one shared claim-time environment (engine.md §4.7.1)."""
    env = _Environment(undefined=ChainableUndefined, autoescape=False, keep_trailing_newline=True)
    env.filters.update(_CUSTOM_FILTERS)
    env.globals["now"] = _now
    return env


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _compiled(text: str) -> tuple[TemplateExpression | None, Template | None]:
    """(native expression, None) for a single `{{ expr }}`, else (None, template)."""
    env = environment()
    try:
        tree = env.parse(text)
        expr = single_output_expr(tree)
        if expr is not None:
            body = nodes.Template([nodes.Assign(nodes.Name("result", "store"), expr, lineno=expr.lineno)],
                                  lineno=1)
            body.set_environment(env)
            return TemplateExpression(env.from_string(body), undefined_to_none=False), None
        return None, _template(text)
    except RenderError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse/compile failure is the template's fault
        raise RenderError(f"template syntax: {exc}") from None


def _to_json_value(value: Any) -> Any:
    """A native value as JSON data: undefined -> null, Markup -> str, tuple -> list (§4.7.2)."""
    if isinstance(value, Undefined):
        return None
    if value is None or isinstance(value, (bool, int, str)):
        return str(value) if isinstance(value, Markup) else value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RenderError("non-finite float is not a JSON value")
        return value
    if isinstance(value, Mapping):
        return {str(k): _to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json_value(v) for v in value]
    raise RenderError(f"a value of type {type(value).__name__} is not a JSON value")


def native_render(text: str, ctx: Mapping[str, Any]) -> Any:
    """Render a template string: a single `{{ expr }}` keeps the expression's native type (JSON
    data, undefined -> None); any other template renders to a string; a string without template
    markers is returned unchanged."""
    if not has_template(text):
        return text
    expr, template = _compiled(text)
    try:
        if expr is not None:
            return _to_json_value(expr(**ctx))
        assert template is not None
        return template.render(**ctx)
    except RenderError:
        raise
    except Exception as exc:  # noqa: BLE001 - the template failed; the caller reports the field
        raise RenderError(f"{type(exc).__name__}: {exc}") from None


def render_text(text: str, ctx: Mapping[str, Any]) -> str:
    """Render a template string to text (always a string, Jinja2's `render()`)."""
    if not has_template(text):
        return text
    template = _template(text)
    try:
        return template.render(**ctx)
    except Exception as exc:  # noqa: BLE001
        raise RenderError(f"{type(exc).__name__}: {exc}") from None


@lru_cache(maxsize=4096)
def _template(text: str) -> Template:
    try:
        return environment().from_string(text)
    except Exception as exc:  # noqa: BLE001
        raise RenderError(f"template syntax: {exc}") from None


def render_structure(value: Any, ctx: Mapping[str, Any], *,
                     skip: Callable[[tuple[Any, ...]], bool] | None = None,
                     _path: tuple[Any, ...] = ()) -> Any:
    """Render every template string inside a JSON structure with `native_render`; mapping keys
    and strings without template markers are kept. `skip(path)` may exclude subtrees (verbatim
    parts of a tool config); a path is a tuple of keys and list indexes."""
    if skip is not None and _path and skip(_path):
        return value
    if isinstance(value, str):
        try:
            return native_render(value, ctx)
        except RenderError as err:
            where = ".".join(str(p) for p in _path) or "<value>"
            raise RenderError(f"{where}: {err}") from None
    if isinstance(value, Mapping):
        return {k: render_structure(v, ctx, skip=skip, _path=_path + (k,)) for k, v in value.items()}
    if isinstance(value, list):
        return [render_structure(v, ctx, skip=skip, _path=_path + (i,)) for i, v in enumerate(value)]
    return value


# ---------------------------------------------------------------------------------------------
# JSON text for jsonb
# ---------------------------------------------------------------------------------------------


def _float_text(value: float) -> str:
    """A float as JSON text that jsonb keeps a float: always with a '.', never an exponent
    (json.dumps writes 1e16 as 1e+16, which jsonb reads back as an integer)."""
    if not math.isfinite(value):
        raise ValueError(f"non-finite float {value!r} is not a JSON value")
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text if "." in text else text + ".0"


def json_dumps(value: Any) -> str:
    """JSON text for a jsonb parameter that keeps integers and floats apart (engine.md §3.3)."""
    if isinstance(value, float):
        return _float_text(value)
    if value is None or isinstance(value, (bool, int, str)):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {json_dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(json_dumps(v) for v in value) + "]"
    raise TypeError(f"a value of type {type(value).__name__} is not JSON")
