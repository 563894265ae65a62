"""Agents' notifications: the list the web client polls, reading them, and preferences."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api import etags
from chalicelib.api.routing import Call, operation
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        NotificationPreferencesIn,
        NotificationPreferencesOut,
        NotificationQuery,
        NotificationsReadIn,
        NotificationsReadOut,
    )
    from chalicelib.notifications.model import Preferences

schemas = lazy_module("chalicelib.api.schemas")
feed = lazy_module("chalicelib.notifications.feed")
model = lazy_module("chalicelib.notifications.model")
bp = Blueprint(__name__)

POLLING = (
    "What you are told about: new tickets, customer replies on tickets assigned to you (or "
    "to nobody), tickets assigned to you, and notes that mention you (`@Ana`, `@[Ana "
    "Lima]`, `@ana.lima` or `@<member id>`); never your own actions. Kept 90 days. Poll "
    "every 15 to 30 seconds while the app is open (every few minutes while the tab is "
    "hidden) with `If-None-Match` set to the last `ETag`: 304 with no body while nothing "
    "is new or read (one read, however many notifications you have). `since` (the newest "
    "id you hold) answers only newer ones. On 429 or 503 wait `Retry-After`, then double "
    "the interval up to 5 minutes until an answer succeeds. `unread_count` stops at 100 "
    '(show "99+"). 403 `not_a_person` for an API key.'
)


def _preferences_out(preferences: Preferences) -> NotificationPreferencesOut:
    return schemas.NotificationPreferencesOut(
        **{
            kind.value: {"in_app": channels.in_app, "email": channels.email}
            for kind, channels in preferences.with_changes({}).channels.items()
        }
    )


@operation(
    bp,
    "GET",
    "/v1/notifications",
    summary="Your notifications, newest first, with the unread count",
    description=POLLING,
    tag="notifications",
    query="NotificationQuery",
    response="NotificationListOut",
    also=(304,),
    errors=(400, 401, 403),
)
def list_notifications(call: Call) -> Response:
    query: NotificationQuery = call.query
    tagged = feed.notifications(
        bootstrap.notification_deps(),
        call.member,
        query.since,
        query.cursor,
        query.limit,
        etags.sent_tags(call.request),
    )
    if tagged.page is None:
        return etags.not_modified(tagged.etag)
    return etags.tagged(
        schemas.NotificationListOut(
            notifications=[
                schemas.NotificationOut(
                    id=n.id,
                    kind=n.kind.value,
                    ticket_id=n.ticket_id,
                    ticket_number=n.ticket_number,
                    ticket_subject=n.ticket_subject,
                    actor_id=n.actor_id,
                    actor_name=n.actor_name,
                    excerpt=n.excerpt,
                    message_id=n.message_id,
                    created_at=n.created_at,
                    read=n.read,
                )
                for n in tagged.page.notifications
            ],
            next_cursor=tagged.page.next_cursor,
            unread_count=tagged.page.unread_count,
        ),
        tagged.etag,
    )


@operation(
    bp,
    "POST",
    "/v1/notifications/read",
    summary="Mark notifications read: some by id, or every one up to an id",
    description="`ids`: these (at most 50). `through`: every notification up to and "
    'including this id ("mark all as read" sends the newest one shown; 404 '
    "`notification_not_found` unless it is one of yours). Ids in `ids` that are not yours "
    "change nothing. Answers the unread count after. 403 `not_a_person` for an API key.",
    tag="notifications",
    body="NotificationsReadIn",
    response="NotificationsReadOut",
    errors=(401, 403, 404),
)
def read_notifications(call: Call) -> NotificationsReadOut:
    body: NotificationsReadIn = call.body
    unread = feed.mark_read(bootstrap.notification_deps(), call.member, body.ids, body.through)
    return schemas.NotificationsReadOut(unread_count=unread)


@operation(
    bp,
    "GET",
    "/v1/me/notification-preferences",
    summary="What you are told of, in the app and by e-mail",
    description="Per kind: `in_app` (the list and its unread count) and `email` (a digest "
    "at most every 5 minutes of what you have not read in the app meanwhile). Defaults: "
    "everything in the app; by e-mail everything but new tickets.",
    tag="notifications",
    response="NotificationPreferencesOut",
    errors=(401, 403),
)
def get_notification_preferences(call: Call) -> NotificationPreferencesOut:
    return _preferences_out(feed.preferences(bootstrap.notification_deps(), call.member))


@operation(
    bp,
    "PUT",
    "/v1/me/notification-preferences",
    summary="Choose what you are told of, in the app and by e-mail",
    description="Kinds left out keep their channels. Applies to what happens from now on.",
    tag="notifications",
    body="NotificationPreferencesIn",
    response="NotificationPreferencesOut",
    errors=(401, 403),
)
def put_notification_preferences(call: Call) -> NotificationPreferencesOut:
    body: NotificationPreferencesIn = call.body
    changes = {
        model.NotificationKind(kind): model.Channels(in_app=value.in_app, email=value.email)
        for kind in body.model_fields_set
        if (value := getattr(body, kind)) is not None
    }
    return _preferences_out(
        feed.set_preferences(bootstrap.notification_deps(), call.member, changes)
    )
