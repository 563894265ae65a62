"""Structured logging (Powertools Logger): one JSON line per event, with the workspace and
correlation ids appended; never secrets or message bodies.

The Logger is built on first use, so importing `app` does not pay for Powertools."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger


@lru_cache(maxsize=1)
def get_logger() -> Logger:
    from aws_lambda_powertools import Logger

    return Logger(service="helptal", level=get_settings().log_level)


class _DeferredLogger:
    """Stands for the Powertools Logger until something is logged."""

    def __getattr__(self, name: str) -> Any:
        return getattr(get_logger(), name)


logger: Logger = _DeferredLogger()  # type: ignore[assignment]
