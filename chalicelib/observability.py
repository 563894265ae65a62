"""Structured logging (Powertools Logger): one JSON line per event, with the workspace and
correlation ids appended; never secrets or message bodies.

In the `dev` stage with `LOG_FORMAT=text` (what `make run` sets), the same records are
written as readable lines instead: `12:00:01 INFO request handled  path=/v1/me status=200`.
Deployed stages always write JSON.

The Logger is built on first use, so importing `app` does not pay for Powertools."""

from __future__ import annotations

import json
import logging
import os
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.settings import DEV_STAGE, get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

# Keys every record has: the line shows them in its own way, or not at all.
_LINE_KEYS = {"level", "location", "message", "timestamp", "service", "sampling_rate"}
_LATE_KEYS = ("exception_name", "exception", "stack_trace")


def readable_lines(stage: str, log_format: str) -> bool:
    """Whether logs are readable lines rather than JSON: only in dev, and only when asked."""
    return stage == DEV_STAGE and log_format.strip().lower() == "text"


def line_formatter() -> LambdaPowertoolsFormatter:
    """Powertools' formatter (same keys, same appended ids) writing one readable line."""
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    class LineFormatter(LambdaPowertoolsFormatter):
        def format(self, record: logging.LogRecord) -> str:
            fields: dict[str, Any] = json.loads(super().format(record))
            when = self.formatTime(record, "%H:%M:%S")
            keys = " ".join(
                f"{name}={_value(value)}"
                for name, value in fields.items()
                if name not in _LINE_KEYS and name not in _LATE_KEYS
            )
            line = f"{when} {record.levelname:<7} {fields.get('message', '')}"
            line = f"{line}  {keys}" if keys else line
            trace = fields.get("exception") or ""
            return f"{line}\n{trace}" if trace else line

    return LineFormatter()


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return json.dumps(text) if (" " in text or not text) else text


@lru_cache(maxsize=1)
def get_logger() -> Logger:
    from aws_lambda_powertools import Logger

    settings = get_settings()
    # LOG_FORMAT is a local-stack switch (like AWS_ENDPOINT_URL), never set in AWS.
    if readable_lines(settings.stage, os.environ.get("LOG_FORMAT", "")):
        return Logger(
            service="helptal", level=settings.log_level, logger_formatter=line_formatter()
        )
    return Logger(service="helptal", level=settings.log_level)


class _DeferredLogger:
    """Stands for the Powertools Logger until something is logged."""

    def __getattr__(self, name: str) -> Any:
        return getattr(get_logger(), name)


logger: Logger = _DeferredLogger()  # type: ignore[assignment]
