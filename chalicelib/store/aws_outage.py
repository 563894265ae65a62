"""AWS calls that give up within seconds, and telling an AWS outage from a bug.

Every AWS client (boto3's in `chalicelib.bootstrap`, pynamodb's in `chalicelib.store.models`)
uses these limits, so a request to an unreachable or hanging AWS fails in a few seconds (a
503 with Retry-After, `chalicelib.api.routing`) instead of waiting out the SDK defaults
(60 s connect and read timeouts, several retries) and answering 500."""

from __future__ import annotations

from typing import Any

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 3  # behind a local emulator: `Settings.aws_read_timeout_seconds`
# The first try and one retry (with the SDK's jittered backoff): a hanging endpoint costs
# at most about 2 * READ_TIMEOUT_SECONDS + 1 s per call.
MAX_ATTEMPTS = 2
# What callers are told to wait before trying again.
RETRY_AFTER_SECONDS = 5

# Error codes AWS answers when it is throttling or briefly unable to serve.
_UNAVAILABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "SlowDown",
        "ServiceUnavailable",
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def client_config(**options: Any) -> Any:
    """A botocore `Config` with this module's timeouts and bounded retries (plus `options`)."""
    from botocore.config import Config

    from chalicelib.settings import get_settings

    return Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=get_settings().aws_read_timeout_seconds,
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        **options,
    )


def is_aws_outage(error: BaseException) -> bool:
    """True when `error` (or an error it was raised from, including pynamodb's `cause`)
    means AWS could not be reached, timed out, or throttled: worth retrying later.  Errors
    AWS gives for a bad request (validation, a failed condition) are not outages."""
    from botocore.exceptions import (
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    unreachable = (
        EndpointConnectionError,
        ConnectTimeoutError,
        ReadTimeoutError,
        ConnectionClosedError,
    )
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, unreachable):
            return True
        response = getattr(current, "response", None)
        if isinstance(response, dict):
            code = response.get("Error", {}).get("Code")
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in _UNAVAILABLE_CODES or status in (429, 503):
                return True
        cause = getattr(current, "cause", None)  # pynamodb keeps the botocore error here
        pending += [cause if isinstance(cause, BaseException) else None]
        pending += [current.__cause__, current.__context__]
    return False
