"""Registration problems and warnings of the playbook compiler (engine.md §1.10, §1.11)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from noetl_pg.expr import ExpressionError
from noetl_pg.playbook.source import Path, Source, format_at


@dataclass(frozen=True)
class Problem:
    """One entry of the 422 `detail.errors` array: code, document path, message, position."""

    code: str
    at: str
    message: str
    line: int | None = None
    column: int | None = None
    construct: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The §1.11 error entry; absent position and construct are left out."""
        out: dict[str, Any] = {"code": self.code, "at": self.at}
        if self.line is not None:
            out["line"] = self.line
        if self.column is not None:
            out["column"] = self.column
        if self.construct is not None:
            out["construct"] = self.construct
        out["message"] = self.message
        return out

    def __str__(self) -> str:
        return f"{self.at}: {self.message}" if self.at else self.message


class PlaybookError(Exception):
    """A playbook that cannot be registered; carries every problem found, in document order."""

    def __init__(self, problems: list[Problem], *, path: str | None = None) -> None:
        if not problems:
            raise ValueError("PlaybookError needs at least one problem")
        super().__init__(str(problems[0]))
        self.problems = problems
        self.path = path

    @property
    def code(self) -> str:
        """`unsupported_expression` when every problem is `E_EXPRESSION`, else `invalid_playbook`."""
        if all(p.code == "E_EXPRESSION" for p in self.problems):
            return "unsupported_expression"
        return "invalid_playbook"

    @property
    def message(self) -> str:
        """The first problem rendered as `<at>: <message>` (the body's `error`)."""
        return str(self.problems[0])

    def detail(self) -> dict[str, Any]:
        """The `detail` object of the 422 body (engine.md §1.11)."""
        return {
            "code": self.code,
            "message": self.message,
            "path": self.path,
            "errors": [p.to_dict() for p in self.problems],
        }


class Collector:
    """Accumulates problems and warnings while a document is checked, with YAML positions."""

    def __init__(self, source: Source | None) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.warnings: list[dict[str, Any]] = []

    def _pos(self, path: Path) -> tuple[int | None, int | None]:
        pos = self.source.position(path) if self.source is not None else None
        return (pos[0], pos[1]) if pos else (None, None)

    def error(self, code: str, path: Path, message: str, construct: str | None = None) -> None:
        line, column = self._pos(path)
        self.problems.append(Problem(code, format_at(path), message, line, column, construct))

    def expression(self, err: ExpressionError, path: Path) -> None:
        """Record an `ExpressionError` raised for the field at `path`."""
        line, column = self._pos(path)
        self.problems.append(Problem(err.code, err.at, err.message, line, column, err.construct))

    def warn(self, code: str, path: Path | str, message: str) -> None:
        at = path if isinstance(path, str) else format_at(path)
        self.warnings.append({"code": code, "at": at, "message": message})
