"""The error family of the HTTP layer (http-api §1.4): each exception knows its status, its
`detail.code` and any extra detail keys; one handler turns it into the error body."""

from __future__ import annotations

from typing import Any, TypedDict


class ErrorItem(TypedDict):
    """One problem of a 422 validation_error: where (`loc`), what (`msg`), which kind (`type`)."""

    loc: list[str | int]
    msg: str
    type: str


class ApiError(Exception):
    """An answer with status >= 400 and the error body {detail, error, status}."""

    status = 500
    code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.headers = dict(headers or {})
        self.extra = extra

    def body(self) -> dict[str, Any]:
        detail = {"code": self.code, "message": self.message, **self.extra}
        return {"detail": detail, "error": self.message, "status": self.status}


class InvalidJson(ApiError):
    status, code = 400, "invalid_json"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "route_not_found"


class MethodNotAllowed(ApiError):
    status, code = 405, "method_not_allowed"


class Conflict(ApiError):
    status, code = 409, "already_terminal"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"Request body exceeds the limit of {limit_bytes} bytes for this route",
                         limit_bytes=limit_bytes)


class Unprocessable(ApiError):
    """422 with a code other than validation_error (invalid_playbook, query_unparseable, ...)."""

    status, code = 422, "validation_error"


class ValidationError(Unprocessable):
    """422 validation_error listing every problem found in path, query and body."""

    def __init__(self, errors: list[ErrorItem]) -> None:
        message = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
        super().__init__(message or "invalid request", errors=errors)

    @staticmethod
    def one(loc: list[str | int], msg: str, type_: str = "value_error") -> "ValidationError":
        return ValidationError([{"loc": loc, "msg": msg, "type": type_}])


class ServerFault(ApiError):
    status, code = 500, "internal_error"


class Unavailable(ApiError):
    """503: a dependency is unavailable or saturated; always with Retry-After."""

    status, code = 503, "db_unavailable"

    def __init__(self, message: str, *, retry_after: int = 1, **kwargs: Any) -> None:
        headers = kwargs.pop("headers", None) or {}
        headers.setdefault("Retry-After", str(retry_after))
        super().__init__(message, headers=headers, **kwargs)
