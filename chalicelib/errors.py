"""Errors a caller can cause, in the helpdesk's words.

Domain and service code raise these; the API layer maps them to HTTP in one place
(`chalicelib.api.routing`).  Adapters translate provider/AWS failures into these or into
`ProviderUnavailable` (`raise ... from e`), never leak vendor exceptions upward.
"""

from __future__ import annotations

from typing import Any


class HelptalError(Exception):
    """Base class: `code` is stable and machine-readable, `message` is for people."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details
        self.headers = headers or {}


class BadRequest(HelptalError):
    status = 400
    code = "bad_request"


class InvalidCursor(BadRequest):
    """A paging cursor that was tampered with or belongs to another listing."""

    code = "invalid_cursor"


class ValidationFailed(HelptalError):
    status = 422
    code = "validation_failed"


class PlanLimit(HelptalError):
    """The workspace's plan, seats or payment standing does not allow this now; `details`
    says what would (a plan that includes it, more seats, paying the open invoice)."""

    status = 402
    code = "plan_limit"


class Unauthenticated(HelptalError):
    status = 401
    code = "unauthenticated"


class Forbidden(HelptalError):
    status = 403
    code = "forbidden"


class NotFound(HelptalError):
    status = 404
    code = "not_found"


class Conflict(HelptalError):
    status = 409
    code = "conflict"


class Gone(HelptalError):
    status = 410
    code = "gone"


class PayloadTooLarge(HelptalError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(HelptalError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after_seconds: int, code: str | None = None) -> None:
        super().__init__(
            message, code=code, headers={"Retry-After": str(max(1, int(retry_after_seconds)))}
        )
        self.retry_after_seconds = retry_after_seconds


class ServiceUnavailable(HelptalError):
    """Worth retrying later: answered with Retry-After (unless the raiser gave one)."""

    status = 503
    code = "service_unavailable"
    retry_after_seconds = 5

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(
            message,
            code=code,
            details=details,
            headers={"Retry-After": str(self.retry_after_seconds), **(headers or {})},
        )


class ProviderUnavailable(Exception):
    """A provider failed in a way worth retrying later (timeouts, 429, 5xx)."""


class ProviderRejected(Exception):
    """A provider refused the request permanently (4xx other than 429): do not retry."""
