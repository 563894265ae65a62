"""A member's notifications in the app: the list, unread count, reading, preferences."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.accounts.model import Principal
from chalicelib.errors import Forbidden, NotFound, ValidationFailed
from chalicelib.notifications.deps import NotificationDeps
from chalicelib.notifications.model import (
    Channels,
    NotificationKind,
    NotificationPage,
    Preferences,
)

UNREAD_COUNT_CAP = 100  # "99+" is what a badge shows beyond
MAX_IDS_READ = 50
_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def member_id(principal: Principal) -> str:
    """Notifications are a person's: an API key has none (403 `not_a_person`)."""
    if not principal.user_id:
        raise Forbidden("Only a person's session has notifications.", code="not_a_person")
    return principal.user_id


@dataclass(frozen=True)
class Tagged:
    page: NotificationPage | None  # None: unchanged since the tag the client sent
    etag: str


def _etag(*parts: object) -> str:
    return '"' + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32] + '"'


def notifications(
    deps: NotificationDeps,
    principal: Principal,
    since: str | None,
    cursor: str | None,
    limit: int,
    if_none_match: frozenset[str] = frozenset(),
) -> Tagged:
    """The caller's notifications, newest first (newer than `since` when given), with the
    unread count.  The tag changes with every new notification and every read, so a poll
    that sends it back and finds nothing new costs one GetItem and answers `page=None`;
    otherwise three more Queries."""
    user_id = member_id(principal)
    if since is not None and not _ID.match(since):
        raise ValidationFailed(
            "`since` is a notification id.",
            details=[{"field": "since", "message": "not a notification id"}],
        )
    ws = principal.workspace_id
    state = deps.store.read_state(ws, user_id)
    etag = _etag(ws, user_id, state.revision, state.read_through, since, cursor, limit)
    if etag in if_none_match:
        return Tagged(None, etag)
    found, next_cursor = deps.store.page(ws, user_id, since, cursor, limit, state.read_through)
    unread = deps.store.unread_count(ws, user_id, state.read_through, UNREAD_COUNT_CAP)
    return Tagged(NotificationPage(found, next_cursor, unread), etag)


def mark_read(
    deps: NotificationDeps,
    principal: Principal,
    ids: Sequence[str],
    through: str | None,
) -> int:
    """Marks the notifications `ids` read, and with `through` every notification up to that
    id (what "mark all as read" sends: the newest one shown; 404 `notification_not_found`
    unless it is one of theirs).  Returns the unread count after.  Writes: a BatchWriteItem
    per 25 ids, one UpdateItem."""
    user_id = member_id(principal)
    bad = [i for i in [*ids, *([through] if through else [])] if not _ID.match(i)]
    if bad:
        raise ValidationFailed(
            "Notification ids are 26-character ULIDs.",
            details=[{"field": "ids", "message": f"not a notification id: {bad[0][:40]}"}],
        )
    ws = principal.workspace_id
    # Never a place beyond the newest one: it would mark future notifications read.
    if through and not deps.store.exists(ws, user_id, through):
        raise NotFound("You have no notification with this id.", code="notification_not_found")
    if ids:
        deps.store.mark_read(ws, user_id, list(dict.fromkeys(ids)))
    if through:
        deps.store.mark_read_through(ws, user_id, through)
    state = deps.store.read_state(ws, user_id)
    return deps.store.unread_count(ws, user_id, state.read_through, UNREAD_COUNT_CAP)


def preferences(deps: NotificationDeps, principal: Principal) -> Preferences:
    """The caller's channels for every kind (defaults where they chose none)."""
    user_id = member_id(principal)
    found = deps.store.preferences(principal.workspace_id, [user_id])[user_id]
    return found.with_changes({})


def set_preferences(
    deps: NotificationDeps, principal: Principal, changes: dict[NotificationKind, Channels]
) -> Preferences:
    """Changes the kinds named in `changes`; the others keep their channels."""
    user_id = member_id(principal)
    current = deps.store.preferences(principal.workspace_id, [user_id])[user_id]
    updated = current.with_changes(changes)
    deps.store.save_preferences(principal.workspace_id, user_id, updated)
    return updated
