"""Schemas of the inbox's changes feed."""

from __future__ import annotations

from pydantic import Field

from chalicelib.api.schemas.common import Outgoing, QueryParams
from chalicelib.api.schemas.tickets import TicketOut


class TicketChangesQuery(QueryParams):
    since: str | None = Field(default=None, min_length=1, max_length=200)
    limit: int = Field(default=100, ge=1, le=100)


class TicketChangesOut(Outgoing):
    tickets: list[TicketOut]
    next_cursor: str
    more: bool
