"""Structured logging (Powertools Logger): one JSON line per event, with the workspace and
correlation ids appended; never secrets or message bodies."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from chalicelib.settings import get_settings

logger = Logger(service="helptal", level=get_settings().log_level)
