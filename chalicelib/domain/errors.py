"""Errors the use cases raise; the API layer turns each into its HTTP status.

They carry a message meant for the client, which names the offending field
when there is one ("password: must be at least 8 characters").
"""

from __future__ import annotations


class VigilError(Exception):
    """Base of every error a client may see."""

    status_code = 500
    code = "InternalServerError"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)

    @property
    def message(self) -> str:
        return str(self)


class InvalidInput(VigilError):
    status_code = 400
    code = "BadRequestError"


class Unauthenticated(VigilError):
    status_code = 401
    code = "UnauthorizedError"


class NotPermitted(VigilError):
    status_code = 403
    code = "ForbiddenError"


class NotFound(VigilError):
    status_code = 404
    code = "NotFoundError"


class Conflict(VigilError):
    status_code = 409
    code = "ConflictError"


class PayloadTooLarge(VigilError):
    status_code = 413
    code = "RequestEntityTooLargeError"


class Throttled(VigilError):
    status_code = 429
    code = "TooManyRequestsError"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = max(1, int(retry_after_seconds))


class Unavailable(VigilError):
    """Something we depend on cannot take the request now; the client should retry."""

    status_code = 503
    code = "ServiceUnavailableError"

    def __init__(self, message: str, *, retry_after_seconds: int = 5) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
