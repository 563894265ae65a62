"""Calendar connection schemas (booking: members' Google and Microsoft 365 calendars)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.api.schemas.common import Incoming, Outgoing, QueryParams

CalendarId = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class CalendarConnectionsQuery(QueryParams):
    user_id: str | None = Field(
        default=None,
        max_length=64,
        description="Whose connections (owners and admins: any member's); default: yours.",
    )


class CalendarOut(Outgoing):
    id: str = Field(description="The provider's id of the calendar.")
    name: str = Field(description="The calendar's name, as the provider shows it.")
    primary: bool = Field(description="The account's main calendar.")
    writable: bool = Field(description="Bookings can be written to it.")


class CalendarConnectionOut(Outgoing):
    id: str = Field(description="The connection's id.")
    user_id: str = Field(description="The member whose calendar account it is.")
    provider: str = Field(description="`google` or `microsoft`.")
    account_email: str = Field(description="The calendar account's address.")
    status: str = Field(
        description="`connected`; `needs_reconnect` (the grant was revoked or expired: the "
        "member connects it again); `error` (the provider failed lately; retried)."
    )
    last_error: str = Field(
        description="Why, as a code the web client translates: `reconnect_google`, "
        "`reconnect_microsoft`, `provider_unavailable`; empty when connected."
    )
    calendars: list[CalendarOut] = Field(description="The account's calendars.")
    busy_calendar_ids: list[str] = Field(
        description="Calendars whose events make the member busy on booking pages."
    )
    write_calendar_id: str = Field(description="The calendar bookings are written to.")
    created_at: datetime | None = Field(description="When it was first connected.")
    updated_at: datetime | None = Field(description="When it last changed.")


class CalendarConnectionsOut(Outgoing):
    connections: list[CalendarConnectionOut] = Field(description="The connections.")


class CalendarConnectStartOut(Outgoing):
    authorization_url: str = Field(
        description="The provider's consent page: send the browser there; it comes back to "
        "the web client's calendar settings with `?connected=<provider>` or `?error=<code>`."
    )


class CalendarConnectionPatchIn(Incoming):
    busy_calendar_ids: list[CalendarId] | None = Field(
        default=None,
        max_length=50,
        description="Calendars of this connection whose events make the member busy.",
    )
    write_calendar_id: CalendarId | None = Field(
        default=None, description="A writable calendar of this connection for bookings."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "busy_calendar_ids": ["ann@acme.test", "team@group.calendar.google.com"],
                    "write_calendar_id": "ann@acme.test",
                }
            ]
        }
    )


class CalendarCallbackQuery(QueryParams):
    code: str | None = Field(default=None, description="The provider's authorization code.")
    state: str | None = Field(default=None, description="The state the consent was started with.")
    error: str | None = Field(default=None, description="The provider's refusal (`access_denied`).")
    error_description: str | None = Field(default=None, description="The provider's explanation.")
    error_subcode: str | None = Field(default=None, description="Microsoft's refusal detail.")
    session_state: str | None = Field(default=None, description="Microsoft's session state.")
    scope: str | None = Field(default=None, description="The scopes Google granted.")
    authuser: str | None = Field(default=None, description="Google's account index.")
    prompt: str | None = Field(default=None, description="Google's prompt used.")
    hd: str | None = Field(default=None, description="Google Workspace domain of the account.")
    iss: str | None = Field(default=None, description="The issuer (RFC 9207).")
    hop: str | None = Field(
        default=None,
        description="Set by Helptal's own relay page, which sends the browser back here so "
        "that it presents the session cookie (SameSite=Strict).",
    )
