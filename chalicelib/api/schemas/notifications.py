"""Schemas of agents' notifications and their preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from chalicelib.api.schemas.common import Incoming, Outgoing, QueryParams

NotificationKindName = Literal["new_ticket", "customer_reply", "assigned", "mention"]
NotificationId = Annotated[str, StringConstraints(min_length=26, max_length=26)]


class NotificationQuery(QueryParams):
    since: str | None = Field(default=None, min_length=26, max_length=26)
    cursor: str | None = Field(default=None, max_length=4096)
    limit: int = Field(default=25, ge=1, le=50)


class NotificationOut(Outgoing):
    id: str
    kind: NotificationKindName
    ticket_id: str
    ticket_number: int
    ticket_subject: str
    actor_id: str | None
    actor_name: str | None
    excerpt: str | None
    message_id: str | None
    created_at: datetime
    read: bool


class NotificationListOut(Outgoing):
    notifications: list[NotificationOut]
    next_cursor: str | None
    unread_count: int


class NotificationsReadIn(Incoming):
    ids: list[NotificationId] = Field(default_factory=list, max_length=50)
    through: NotificationId | None = None

    @model_validator(mode="after")
    def _names_something(self) -> NotificationsReadIn:
        if not self.ids and self.through is None:
            raise ValueError("name `ids`, `through`, or both")
        return self

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"through": "01JD3Y9A7B6C5D4E3F2G1H0J9K"}]}
    )


class NotificationsReadOut(Outgoing):
    unread_count: int


class ChannelsIn(Incoming):
    in_app: bool
    email: bool


class ChannelsOut(Outgoing):
    in_app: bool
    email: bool


class NotificationPreferencesIn(Incoming):
    new_ticket: ChannelsIn | None = None
    customer_reply: ChannelsIn | None = None
    assigned: ChannelsIn | None = None
    mention: ChannelsIn | None = None


class NotificationPreferencesOut(Outgoing):
    new_ticket: ChannelsOut
    customer_reply: ChannelsOut
    assigned: ChannelsOut
    mention: ChannelsOut
