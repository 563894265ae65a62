"""Schemas of the live pushes' way in (docs/decisions/0028-websocket-pushes.md)."""

from __future__ import annotations

from pydantic import Field

from chalicelib.api.schemas.common import Outgoing


class LiveOut(Outgoing):
    url: str | None = Field(
        description="The WebSocket API to connect to (`wss://...`), with "
        "`?connect_token=<connect_token>`; null where this deployment has none (poll instead).",
        examples=["wss://abc123.execute-api.ap-southeast-1.amazonaws.com/api"],
    )
    connect_token: str | None = Field(
        description="A connect token for this member: it opens connections for 60 seconds and "
        "is good for nothing else (ask again to reconnect); null when `url` is null.",
        examples=["lct_eyJ3IjoiMDFKLi4uIn0.c2lnbmF0dXJl"],
    )
    expires_in: int | None = Field(
        description="Seconds the token stays valid (60); null when `url` is null.",
        examples=[60],
    )
