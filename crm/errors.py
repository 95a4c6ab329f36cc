"""Domain errors. Services raise these; only crm/web.py turns them into HTTP."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status_code = 403
    code = "forbidden"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidInput(DomainError):
    """One or more fields are wrong; ``fields`` maps field name to message."""

    status_code = 422
    code = "invalid_input"

    def __init__(self, fields: dict[str, str], message: str = "Some fields need attention.") -> None:
        super().__init__(message, fields=fields)


class TooLarge(DomainError):
    status_code = 413
    code = "too_large"


class UnsupportedMediaType(DomainError):
    status_code = 415
    code = "unsupported_media_type"


class Throttled(DomainError):
    status_code = 429
    code = "too_many_attempts"
