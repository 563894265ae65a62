"""The phases of a workspace's deletion that remove its content (`PurgePhase`,
chalicelib/privacy/workspace_deletion.py): each family of partitions, found from what the
workspace itself lists, never by a Scan.

| phase      | found from                                      | removed                        |
|------------|-------------------------------------------------|--------------------------------|
| tickets    | `TICKETNO#` lookups, then the tickets view       | each ticket whole (the ticket  |
|            | (GSI1 `WS#<ws>#TICKETS`)                         | removal), what is left of its  |
|            |                                                 | partition, its chat visitor's  |
|            |                                                 | history, its live listeners    |
| articles   | `KBTRANS#` claims, then the articles view        | each article's partition       |
|            | (GSI1 `WS#<ws>#KB`)                              | (article, versions, feedback)  |
| bookings   | `BOOKING#`, `EVTYPE#`, `SCHEDULE#` items         | hosts' ledgers, caps and       |
|            |                                                 | round-robin marks, contacts'   |
|            |                                                 | booking lists, due reminders   |
| contacts   | the contact index; `CONTACT#` items              | the index, contacts' bookings  |
| live       | `WS#<ws>#LIVE#inbox`                             | the subscriptions and their    |
|            |                                                 | connections (`LIVECONN#`)      |
| people     | the user ids the other phases met               | their notification partitions  |
|            |                                                 | in it; their sessions opened in|
|            |                                                 | it (moved to their oldest other|
|            |                                                 | workspace, if they have one)   |
| files      | `HELD#` items; the prefixes `ws/<ws>/`,          | held raw mail; every object    |
|            | `exports/<ws>/`                                  |                                |
| workspace  | `WS#<ws>` itself                                 | every item but the workspace's |

A step does a bounded piece of work and may be repeated: what is gone counts nothing.  A
page of tickets is read twice, first for the people it names (saved with the deletion), then
to remove it, so a crash never loses whose notifications are left to remove."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.privacy.retention import TicketRemover
from chalicelib.privacy.workspace_deletion import PurgeStep, Target
from chalicelib.store import keys
from chalicelib.store.chat_repo import STATE_SK as CHAT_STATE_SK
from chalicelib.store.chat_repo import _history_pk as chat_history_pk
from chalicelib.store.retention_repo import CURSOR_SK as RETENTION_CURSOR_SK
from chalicelib.store.retention_repo import POLICIES_VIEW as RETENTION_VIEW
from chalicelib.store.table_partitions import (
    PAGE,
    PAGES_PER_STEP,
    BucketPrefixes,
    PartitionDrains,
    Row,
    TablePartitions,
    cursor_at,
    split_cursor,
    user_of_actor,
)

TICKETS_PAGE = 25
DEFAULT_REMINDERS = (1440, 60)  # minutes before a booking, when its event type is gone
REMINDERS_KEPT = timedelta(days=2)  # after their due time (chalicelib/store/reminders_repo.py)
LIVE_INBOX = "inbox"


class TicketsPurge(PartitionDrains):
    """Every ticket, by its number lookup (consistent), then by the tickets view for any a
    lookup did not name.  Cursor: `look|<after>`, `drop|<after>`, `view|<json start row>`."""

    name = "tickets"

    def __init__(self, table: TablePartitions, remover: TicketRemover) -> None:
        super().__init__(table)
        self._remover = remover

    def _numbered(self, ws: str, after: str | None) -> tuple[list[str], list[Row], str | None]:
        rows, more = self.table.page(
            keys.workspace_pk(ws),
            prefix="TICKETNO#",
            after=after,
            limit=TICKETS_PAGE,
            attributes=("ticket_id",),
        )
        return [str(r["ticket_id"]) for r in rows if r.get("ticket_id")], rows, more

    def _people(self, ws: str, ticket_ids: Iterable[str]) -> tuple[str, ...]:
        found: list[str] = []
        for ticket_id in ticket_ids:
            pk = keys.ticket_pk(ws, ticket_id)
            ticket = self.table.get(pk, keys.TICKET_SK, ("assignee_id",))
            if ticket and ticket.get("assignee_id"):
                found.append(str(ticket["assignee_id"]))
            after: str | None = None
            while True:
                rows, after = self.table.page(
                    pk, prefix=keys.ACTIVITY_PREFIX, after=after, attributes=("actor",)
                )
                found += [u for u in (user_of_actor(r.get("actor")) for r in rows) if u]
                if after is None:
                    break
        return tuple(dict.fromkeys(found))

    def _remove(self, ws: str, ticket_id: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        pk = keys.ticket_pk(ws, ticket_id)
        chat = self.table.get(pk, CHAT_STATE_SK, ("user_id",))
        if chat and chat.get("user_id"):
            counts["chat_history"] = self.drain_all(chat_history_pk(ws, str(chat["user_id"])))
        counts["live"] = _drop_listeners(self.table, ws, f"ticket:{ticket_id}")
        for name, value in self._remover.remove(ws, ticket_id).items():
            counts[name] = counts.get(name, 0) + int(value)
        # Whatever the removal leaves in the ticket's own partition (viewers, chat marks).
        counts["ticket_items"] = self.drain_all(pk)
        return counts

    def step(self, target: Target, cursor: str | None) -> PurgeStep:
        ws = target.workspace_id
        stage, after = split_cursor(cursor, "look")
        if stage == "look":
            ids, rows, _ = self._numbered(ws, after)
            if not rows:
                return PurgeStep(cursor=cursor_at("view", None))
            return PurgeStep(people=self._people(ws, ids), cursor=cursor_at("drop", after))
        if stage == "drop":
            ids, rows, more = self._numbered(ws, after)
            counts: dict[str, int] = {}
            for ticket_id in ids:
                for name, value in self._remove(ws, ticket_id).items():
                    counts[name] = counts.get(name, 0) + value
            counts["ticket_items"] = counts.get("ticket_items", 0) + self.table.delete(
                (str(r["PK"]), str(r["SK"])) for r in rows
            )
            last = str(rows[-1]["SK"]) if rows else after
            return PurgeStep(
                counts, cursor=cursor_at("look", last) if more else cursor_at("view", None)
            )
        start = json.loads(after) if after else None
        rows, next_row = self.table.index_page(
            "GSI1", keys.tickets_view(ws), after_row=start, limit=TICKETS_PAGE
        )
        ids = [str(r["PK"]).rsplit("#T#", 1)[-1] for r in rows if r.get("SK") == keys.TICKET_SK]
        counts = {}
        people = self._people(ws, ids)
        for ticket_id in ids:
            for name, value in self._remove(ws, ticket_id).items():
                counts[name] = counts.get(name, 0) + value
        return PurgeStep(
            counts,
            people=people,
            cursor=cursor_at("view", json.dumps(next_row)) if next_row else None,
        )


def _drop_listeners(table: TablePartitions, ws: str, topic: str) -> int:
    """The live subscriptions to a topic of the workspace and their connections' lookups."""
    pk = keys.live_topic_pk(ws, topic)
    removed = 0
    while True:
        rows, more = table.page(pk, limit=PAGE, attributes=("connection_id",))
        for row in rows:
            if row.get("connection_id"):
                removed += table.delete_lookup(
                    keys.live_connection_pk(str(row["connection_id"])),
                    keys.LIVE_CONNECTION_SK,
                    ws,
                )
        removed += table.delete((str(r["PK"]), str(r["SK"])) for r in rows)
        if more is None:
            return removed


class ArticlesPurge(PartitionDrains):
    """Every article's partition, found by its translation claim, then by the articles view.
    Cursor: `claims|<after>`, `view|<json start row>`."""

    name = "articles"

    def step(self, target: Target, cursor: str | None) -> PurgeStep:
        ws = target.workspace_id
        stage, after = split_cursor(cursor, "claims")
        if stage == "claims":
            rows, more = self.table.page(
                keys.workspace_pk(ws),
                prefix="KBTRANS#",
                after=after,
                limit=PAGE,
                attributes=("article_id",),
            )
            removed = sum(
                self.drain_all(keys.article_pk(ws, str(r["article_id"])))
                for r in rows
                if r.get("article_id")
            )
            return PurgeStep(
                {"articles": removed},
                cursor=cursor_at("claims", more) if more else cursor_at("view", None),
            )
        start = json.loads(after) if after else None
        rows, next_row = self.table.index_page(
            "GSI1", keys.articles_view(ws), after_row=start, limit=PAGE
        )
        removed = sum(self.drain_all(str(r["PK"])) for r in rows)
        return PurgeStep(
            {"articles": removed},
            cursor=cursor_at("view", json.dumps(next_row)) if next_row else None,
        )


def _reminder_iso(moment: datetime) -> str:
    # As the reminders are keyed (chalicelib/store/reminders_repo.py).
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class BookingsPurge(PartitionDrains):
    """What hangs off the workspace's bookings, event types and schedules: the hosts'
    ledgers, the event types' counters and round-robin marks, the contacts' booking lists
    and the reminders still ahead (their items in the shared due list name the workspace).
    The booking, event type and schedule items themselves go with the workspace partition.
    Cursor: `bookings|<after>`, `types|<after>`, `schedules|<after>`."""

    name = "bookings"

    def __init__(self, table: TablePartitions, now: Callable[[], datetime]) -> None:
        super().__init__(table)
        self._now = now

    def _reminders(self, ws: str, booking_id: str, core: dict[str, Any]) -> int:
        try:
            start = datetime.fromisoformat(str(core["start"]))
        except (KeyError, ValueError):
            return 0
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        if start + REMINDERS_KEPT < self._now():
            return 0  # long past: its reminders expired
        minutes = set(DEFAULT_REMINDERS)
        event_type = self.table.get(
            keys.workspace_pk(ws), keys.event_type_sk(str(core.get("event_type_id"))), ("body",)
        )
        if event_type and event_type.get("body"):
            body = json.loads(str(event_type["body"]))
            minutes |= {int(m) for m in body.get("reminders", []) if isinstance(m, int)}
        removed = 0
        for before in sorted(minutes):
            due = start - timedelta(minutes=before)
            pk = keys.booking_reminders_due_pk(due.astimezone(UTC).strftime("%Y-%m-%dT%H"))
            rows, _ = self.table.page(pk, prefix=f"{_reminder_iso(due)}#{ws}#{booking_id}#")
            removed += self.table.delete((str(r["PK"]), str(r["SK"])) for r in rows)
        return removed

    def step(self, target: Target, cursor: str | None) -> PurgeStep:
        ws = target.workspace_id
        stage, after = split_cursor(cursor, "bookings")
        counts: dict[str, int] = {}
        people: list[str] = []
        if stage == "bookings":
            rows, more = self.table.page(
                keys.workspace_pk(ws),
                prefix=keys.BOOKING_PREFIX,
                after=after,
                limit=PAGE,
                attributes=("core", "host_ids", "contact_id", "booking_id"),
            )
            ledgers: set[str] = set()
            caps: set[str] = set()
            contacts: set[str] = set()
            for row in rows:
                core = json.loads(str(row.get("core") or "{}"))
                hosts = [str(h) for h in row.get("host_ids") or core.get("host_ids") or []]
                people += hosts
                ledgers |= set(hosts)
                if core.get("event_type_id"):
                    caps.add(str(core["event_type_id"]))
                if row.get("contact_id"):
                    contacts.add(str(row["contact_id"]))
                booking_id = str(row.get("booking_id") or core.get("id") or "")
                counts["reminders"] = counts.get("reminders", 0) + self._reminders(
                    ws, booking_id, core
                )
            counts["ledgers"] = sum(self.drain_all(keys.host_ledger_pk(ws, h)) for h in ledgers)
            counts["caps"] = sum(self.drain_all(keys.booking_caps_pk(ws, e)) for e in caps)
            counts["contact_bookings"] = sum(
                self.drain_all(keys.contact_bookings_pk(ws, c)) for c in contacts
            )
            following = cursor_at("bookings", more) if more else cursor_at("types", None)
            return PurgeStep(counts, cursor=following, people=tuple(people))
        if stage == "types":
            rows, more = self.table.page(
                keys.workspace_pk(ws), prefix=keys.EVENT_TYPE_PREFIX, after=after, limit=PAGE
            )
            counts["caps"] = sum(
                self.drain_all(
                    keys.booking_caps_pk(ws, str(r["SK"]).removeprefix(keys.EVENT_TYPE_PREFIX))
                )
                for r in rows
            )
            following = cursor_at("types", more) if more else cursor_at("schedules", None)
            return PurgeStep(counts, cursor=following)
        rows, more = self.table.page(
            keys.workspace_pk(ws), prefix=keys.SCHEDULE_PREFIX, after=after, limit=PAGE
        )
        hosts = [str(r["SK"]).removeprefix(keys.SCHEDULE_PREFIX) for r in rows]
        counts["ledgers"] = sum(self.drain_all(keys.host_ledger_pk(ws, h)) for h in hosts)
        return PurgeStep(
            counts, cursor=cursor_at("schedules", more) if more else None, people=tuple(hosts)
        )


class ContactsPurge(PartitionDrains):
    """The contact search index, then each contact's booking list.  Cursor: `index|`,
    `contacts|<after>`."""

    name = "contacts"

    def step(self, target: Target, cursor: str | None) -> PurgeStep:
        ws = target.workspace_id
        stage, after = split_cursor(cursor, "index")
        if stage == "index":
            removed, unfinished = self.drain(keys.contact_index_pk(ws))
            return PurgeStep(
                {"contact_index": removed},
                cursor=cursor_at("index", None) if unfinished else cursor_at("contacts", None),
            )
        rows, more = self.table.page(
            keys.workspace_pk(ws), prefix=keys.CONTACT_PREFIX, after=after, limit=PAGE
        )
        removed = sum(
            self.drain_all(
                keys.contact_bookings_pk(ws, str(r["SK"]).removeprefix(keys.CONTACT_PREFIX))
            )
            for r in rows
        )
        return PurgeStep(
            {"contact_bookings": removed}, cursor=cursor_at("contacts", more) if more else None
        )


class LivePurge(PartitionDrains):
    """The inbox's live listeners and their connections."""

    name = "live"

    def step(self, target: Target, cursor: str | None) -> PurgeStep:
        return PurgeStep({"live": _drop_listeners(self.table, target.workspace_id, LIVE_INBOX)})


class PeoplePurge(PartitionDrains):
    """For each person the workspace knew: their notification partition in it and the
    sessions they opened in it.  A session is one sign-in to every workspace of its user
    (`X-Workspace-Id` switches): one whose user belongs to another workspace moves to the
    oldest of those (where signing in again would open it), the others are deleted.
    Cursor: the index of the person in `people`, and how far their partition went
    (`<index>|`)."""

    name = "people"

    def _other_workspace(self, ws: str, user_id: str) -> str | None:
        """The user's oldest membership of another workspace (GSI1 `USER#<user>`)."""
        joined: list[tuple[str, str]] = []
        after: Row | None = None
        while True:
            rows, after = self.table.index_page(
                "GSI1",
                keys.user_pk(user_id),
                after_row=after,
                attributes=("workspace_id", "joined_at"),
            )
            joined += [
                (str(r.get("joined_at") or ""), str(r["workspace_id"]))
                for r in rows
                if str(r["SK"]).startswith(keys.MEMBER_PREFIX)
                and r.get("workspace_id")
                and r["workspace_id"] != ws
            ]
            if after is None:
                return min(joined)[1] if joined else None

    def _sessions(self, ws: str, user_id: str) -> dict[str, int]:
        counts = {"sessions": 0, "sessions_moved": 0}
        other: str | None = None
        looked = False
        after: Row | None = None
        while True:
            rows, after = self.table.index_page(
                "GSI1",
                keys.sessions_of_user(user_id),
                after_row=after,
                attributes=("workspace_id",),
            )
            for row in rows:
                if row.get("workspace_id") != ws:
                    continue
                if not looked:
                    other, looked = self._other_workspace(ws, user_id), True
                pk, sk = str(row["PK"]), str(row["SK"])
                if other is None:
                    counts["sessions"] += self.table.delete_lookup(pk, sk, ws)
                else:
                    counts["sessions_moved"] += self.table.move_lookup(pk, sk, ws, other)
            if after is None:
                return counts

    def step(self, target: Target, cursor: str | None) -> PurgeStep:
        ws = target.workspace_id
        position = int(split_cursor(cursor, "0")[0])
        if position >= len(target.people):
            return PurgeStep()
        user_id = target.people[position]
        removed, more = self.drain(keys.member_notifications_pk(ws, user_id))
        counts = {"notifications": removed}
        if more:
            return PurgeStep(counts, cursor=cursor_at(str(position), None))
        counts.update(self._sessions(ws, user_id))
        following = position + 1
        return PurgeStep(
            counts,
            cursor=cursor_at(str(following), None) if following < len(target.people) else None,
        )


class FilesPurge:
    """Raw mail the workspace held back (`HELD#`), then every object under its prefixes.
    Cursor: `held|<after>`, `prefix|<index>`."""

    name = "files"

    def __init__(self, table: TablePartitions, bucket: BucketPrefixes) -> None:
        self._table = table
        self._bucket = bucket

    @staticmethod
    def prefixes(ws: str) -> tuple[str, ...]:
        return (f"ws/{ws}/", f"exports/{ws}/")

    def step(self, target: Target, cursor: str | None) -> PurgeStep:
        ws = target.workspace_id
        stage, after = split_cursor(cursor, "held")
        if stage == "held":
            rows, more = self._table.page(
                keys.workspace_pk(ws),
                prefix=keys.HELD_PREFIX,
                after=after,
                limit=PAGE,
                attributes=("raw_key",),
            )
            raw = [str(r["raw_key"]) for r in rows if r.get("raw_key")]
            removed = self._bucket.delete(raw) if raw else 0
            return PurgeStep(
                {"held_mail_files": removed},
                cursor=cursor_at("held", more) if more else cursor_at("prefix", "0"),
            )
        index = int(after or 0)
        prefixes = self.prefixes(ws)
        removed, unfinished = self._bucket.delete_page(prefixes[index])
        if unfinished:
            return PurgeStep({"files": removed}, cursor=cursor_at("prefix", str(index)))
        following = index + 1
        return PurgeStep(
            {"files": removed},
            cursor=cursor_at("prefix", str(following)) if following < len(prefixes) else None,
        )


class WorkspacePartitionPurge:
    """The workspace's own partition (members' schedules, settings, counters, mail records,
    bookings, contacts, claims, billing, privacy records, ...), all but the workspace item,
    which goes last of all; and the retention schedule's turn when it names the workspace
    (the next run starts from the first workspace)."""

    name = "workspace"

    def __init__(self, table: TablePartitions) -> None:
        self._table = table

    def step(self, target: Target, cursor: str | None) -> PurgeStep:
        """Deleted items leave the partition: every page is read from its start again."""
        pk = keys.workspace_pk(target.workspace_id)
        removed = 0
        for _ in range(PAGES_PER_STEP):
            rows, more = self._table.page(pk, limit=PAGE)
            doomed = [(str(r["PK"]), str(r["SK"])) for r in rows if r["SK"] != keys.WORKSPACE_SK]
            removed += self._table.delete(doomed)
            if not more:
                removed += self._table.delete_lookup(
                    RETENTION_VIEW, RETENTION_CURSOR_SK, target.workspace_id, "position"
                )
                return PurgeStep({"workspace_items": removed})
        return PurgeStep({"workspace_items": removed}, cursor="more")


class WorkspaceLeftovers:
    """What the settling run looks at (`Leftovers`): a few reads of the families written by
    what may still run after a sweep (workers, the mail-out log, late events)."""

    def __init__(self, table: TablePartitions, bucket: BucketPrefixes) -> None:
        self._table = table
        self._bucket = bucket

    def remaining(self, workspace_id: str) -> list[str]:
        ws = workspace_id
        found: list[str] = []
        rows, _ = self._table.page(keys.workspace_pk(ws), limit=2)
        if any(r["SK"] != keys.WORKSPACE_SK for r in rows):
            found.append("workspace")
        for family, pk in (
            ("contacts", keys.contact_index_pk(ws)),
            ("live", keys.live_topic_pk(ws, LIVE_INBOX)),
        ):
            if self._table.page(pk, limit=1)[0]:
                found.append(family)
        for family, pk in (
            ("tickets", keys.tickets_view(ws)),
            ("articles", keys.articles_view(ws)),
        ):
            if self._table.index_page("GSI1", pk, limit=1)[0]:
                found.append(family)
        if any(self._bucket.any_under(prefix) for prefix in FilesPurge.prefixes(ws)):
            found.append("files")
        return found

    def remove_workspace(self, workspace_id: str) -> None:
        self._table.delete([(keys.workspace_pk(workspace_id), keys.WORKSPACE_SK)])
