"""YAML loading for playbooks: a JSON-safe document plus the line/column of every node by path.

Paths are tuples of keys and list indices (`("workflow", 3, "next", "arcs", 0, "when")`); `format_at`
renders them the way engine.md §1.11 reports locations (`workflow[3].next.arcs[0].when`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as strings.

    PyYAML turns `2024-01-01` into a `date`, which is not a JSON value; a playbook author means the
    text (it is rendered into SQL, URLs, …), so the timestamp resolver is dropped.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def format_at(path: Path) -> str:
    """`("workflow", 3, "next")` → `workflow[3].next`."""
    out = ""
    for token in path:
        if isinstance(token, int):
            out += f"[{token}]"
        else:
            out += f".{token}" if out else str(token)
    return out


@dataclass(frozen=True)
class YamlProblem:
    """Why a text is not a usable document: message and 1-based position when known."""

    message: str
    at: str = ""
    line: int | None = None
    column: int | None = None


@dataclass
class Source:
    """A parsed document and where each of its nodes starts in the text."""

    data: Any
    _root: yaml.Node | None = field(default=None, repr=False)

    def position(self, path: Path) -> tuple[int, int] | None:
        """1-based (line, column) of the node at `path`, or of its nearest existing ancestor."""
        node = self._root
        if node is None:
            return None
        best = node
        for token in path:
            nxt = _child(node, token)
            if nxt is None:
                break
            node = best = nxt
        mark = best.start_mark
        return mark.line + 1, mark.column + 1


def _child(node: yaml.Node, token: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(token, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == token:
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(token, int) and 0 <= token < len(node.value):
        return node.value[token]
    return None


def load(text: str) -> tuple[Source | None, list[YamlProblem]]:
    """Parse `text`; on success the data is JSON-safe (string keys, finite floats, no binary)."""
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        message = " ".join(p for p in (err.context, err.problem) if p) or "invalid YAML"
        return None, [
            YamlProblem(
                f"invalid YAML: {message}",
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            )
        ]
    except yaml.YAMLError as err:
        return None, [YamlProblem(f"invalid YAML: {err}")]
    source = Source(None, root)
    problems: list[YamlProblem] = []
    source.data = _jsonable(data, (), source, problems)
    return source, problems


def _key_text(key: Any) -> str:
    # YAML 1.1 reads `on:`/`yes:` keys as booleans and `200:` as integers; JSON needs text keys.
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def _jsonable(value: Any, path: Path, source: Source, problems: list[YamlProblem]) -> Any:
    if isinstance(value, dict):
        return {
            _key_text(k): _jsonable(v, path + (_key_text(k),), source, problems)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, path + (i,), source, problems) for i, v in enumerate(value)]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    pos = source.position(path)
    problems.append(
        YamlProblem(
            f"value {value!r} is not representable in JSON",
            at=format_at(path),
            line=pos[0] if pos else None,
            column=pos[1] if pos else None,
        )
    )
    return None
