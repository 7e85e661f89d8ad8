"""Splitting SQL text into statements on top-level `;` and finding `$n` placeholders, both while
skipping quoted literals, quoted identifiers, dollar-quoted bodies and comments (worker-protocol §4.3)."""

from __future__ import annotations

import re
from collections.abc import Iterator

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_PLACEHOLDER = re.compile(r"\$([0-9]+)")


def _segments(text: str) -> Iterator[tuple[str, int, int]]:
    """(kind, start, end) spans: kind is 'code', 'literal' or 'comment'."""
    i, n, start = 0, len(text), 0
    while i < n:
        c = text[i]
        if c in ("'", '"'):
            if start < i:
                yield "code", start, i
            j = i + 1
            while j < n:
                if text[j] == c:
                    if j + 1 < n and text[j + 1] == c:
                        j += 2
                        continue
                    break
                if c == "'" and text[j] == "\\" and i > 0 and text[i - 1] in "eE":
                    j += 2
                    continue
                j += 1
            yield "literal", i, min(j + 1, n)
            i = start = min(j + 1, n)
        elif c == "-" and text.startswith("--", i):
            if start < i:
                yield "code", start, i
            j = text.find("\n", i)
            j = n if j < 0 else j
            yield "comment", i, j
            i = start = j
        elif c == "/" and text.startswith("/*", i):
            if start < i:
                yield "code", start, i
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            yield "comment", i, j
            i = start = j
        elif c == "$":
            m = _DOLLAR_TAG.match(text, i)
            # `$1` is a placeholder, and an identifier may contain `$`: a tag starts a body only
            # when it does not follow an identifier character.
            if m and not (i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")):
                if start < i:
                    yield "code", start, i
                tag = m.group(0)
                end = text.find(tag, m.end())
                end = n if end < 0 else end + len(tag)
                yield "literal", i, end
                i = start = end
            else:
                i += 1
        else:
            i += 1
    if start < n:
        yield "code", start, n


def split_statements(text: str) -> list[str]:
    """Statements of `text`, trimmed, empty ones (and comment-only ones) dropped."""
    statements: list[str] = []
    current: list[str] = []
    meaningful = False
    for kind, s, e in _segments(text):
        chunk = text[s:e]
        if kind != "code":
            current.append(chunk)
            meaningful = meaningful or kind == "literal"
            continue
        parts = chunk.split(";")
        for index, part in enumerate(parts):
            if index:
                if meaningful:
                    statements.append("".join(current).strip())
                current, meaningful = [], False
            current.append(part)
            meaningful = meaningful or bool(part.strip())
    if meaningful:
        statements.append("".join(current).strip())
    return statements


def rewrite_placeholders(statement: str, params: list[object]) -> tuple[str, list[object]] | None:
    """`$n` placeholders outside literals rewritten to psycopg's `%s` (every other `%` doubled),
    with the parameters in order of appearance; None when the statement has no `$n`."""
    out: list[str] = []
    ordered: list[object] = []
    found = False
    for kind, s, e in _segments(statement):
        chunk = statement[s:e]
        if kind != "code":
            out.append(chunk.replace("%", "%%"))
            continue
        pos = 0
        for m in _PLACEHOLDER.finditer(chunk):
            if m.start() > 0 and (chunk[m.start() - 1].isalnum() or chunk[m.start() - 1] == "_"):
                continue
            found = True
            number = int(m.group(1))
            if not 1 <= number <= len(params):
                raise IndexError(f"placeholder ${number} has no parameter ({len(params)} given)")
            out.append(chunk[pos:m.start()].replace("%", "%%"))
            out.append("%s")
            ordered.append(params[number - 1])
            pos = m.end()
        out.append(chunk[pos:].replace("%", "%%"))
    return ("".join(out), ordered) if found else None


_LEADING_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)


def leading_words(statement: str, count: int = 3) -> list[str]:
    body = _LEADING_COMMENTS.sub("", statement, count=1)
    return [w.upper() for w in re.findall(r"[A-Za-z_]+", body)[:count]]


_TX_CONTROL = {"BEGIN", "START", "COMMIT", "ROLLBACK", "SAVEPOINT", "END", "RELEASE", "ABORT", "PREPARE"}


def needs_autocommit(statement: str) -> bool:
    """Transaction control, or a statement PostgreSQL refuses inside a transaction block."""
    words = leading_words(statement, 4)
    if not words:
        return False
    first = words[0]
    if first in _TX_CONTROL or first == "VACUUM":
        return True
    if first == "REINDEX" and len(words) > 1 and ("CONCURRENTLY" in words or words[1] in {"DATABASE", "SYSTEM"}):
        return True
    if first in {"CREATE", "DROP"} and len(words) > 1:
        if words[1] in {"DATABASE", "TABLESPACE"}:
            return True
        if "CONCURRENTLY" in words and "INDEX" in words:
            return True
    if first == "ALTER" and len(words) > 1 and words[1] == "SYSTEM":
        return True
    return False
