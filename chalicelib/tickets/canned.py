"""Canned responses (saved replies): a text with a few placeholders, and optionally a status
and tags, that an agent applies to a ticket.

Placeholders are `{{requester.first_name}}` and the other names in PLACEHOLDERS.  Rendering
is one pass of plain substitution: no expressions, no code, and a value that itself looks
like a placeholder is inserted as it is, never expanded again."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol, TypeVar

from chalicelib.accounts.model import Principal
from chalicelib.accounts.workspaces import existing_workspace
from chalicelib.concurrency import retry_stale
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.mail.templates import SUPPORTED_LOCALES
from chalicelib.tickets.conversation import AgentMessage, post_agent_message
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.lifecycle import (
    TicketChanges,
    change_ticket,
    get_ticket,
    normalise_tags,
)
from chalicelib.tickets.model import Message, MessageKind, Ticket, TicketStatus

T = TypeVar("T")

MAX_NAME_CHARS = 120
WRITE_ATTEMPTS = 5

# -- placeholders --------------------------------------------------------------------------

PLACEHOLDERS = (
    "requester.first_name",
    "requester.name",
    "requester.email",
    "ticket.number",
    "ticket.subject",
    "agent.first_name",
    "agent.name",
    "workspace.name",
)
# What `{{requester.first_name}}` says when the requester gave no name ("Hi there,").  French
# has no such word ("Bonjour there"): it renders empty, and the space before it goes.
FIRST_NAME_FALLBACK = {"en": "there", "fr": ""}

# An optional space before the placeholder is captured so that an empty value can take it.
_PLACEHOLDER = re.compile(r"( ?)\{\{\s*([^{}]*?)\s*\}\}")


def placeholders_in(body: str) -> list[str]:
    """The placeholder names used in `body`, in order of first use."""
    return list(dict.fromkeys(m.group(2) for m in _PLACEHOLDER.finditer(body)))


def unknown_placeholders(body: str) -> list[str]:
    return [name for name in placeholders_in(body) if name not in PLACEHOLDERS]


def check_placeholders(body: str, field: str = "body") -> None:
    """ValidationFailed (422) naming every placeholder this renderer does not know."""
    unknown = unknown_placeholders(body)
    if unknown:
        named = ", ".join("{{" + name + "}}" for name in unknown)
        known = ", ".join("{{" + name + "}}" for name in PLACEHOLDERS)
        raise ValidationFailed(
            f"Unknown placeholders: {named}. Known placeholders: {known}.",
            code="unknown_placeholder",
            details=[{"field": field, "message": f"unknown placeholders: {named}"}],
        )


@dataclass(frozen=True)
class RenderContext:
    """What the placeholders can say about one ticket and the agent applying the response."""

    requester_name: str
    requester_email: str
    ticket_number: int
    ticket_subject: str
    agent_name: str
    workspace_name: str


def _first_word(name: str) -> str:
    words = name.split()
    return words[0] if words else ""


def _real_name(name: str, email: str) -> str:
    """The requester's name, or "" when none was given (a contact without a name is shown by
    the part of their address before the @, which is no name to greet them by)."""
    cleaned = " ".join(name.split())
    local_part = email.split("@")[0]
    return "" if cleaned.casefold() == local_part.casefold() else cleaned


def placeholder_values(context: RenderContext, locale: str) -> dict[str, str]:
    requester = _real_name(context.requester_name, context.requester_email)
    return {
        "requester.first_name": _first_word(requester)
        or FIRST_NAME_FALLBACK.get(locale, FIRST_NAME_FALLBACK["en"]),
        "requester.name": requester,
        "requester.email": context.requester_email,
        "ticket.number": str(context.ticket_number),
        "ticket.subject": context.ticket_subject,
        "agent.first_name": _first_word(context.agent_name),
        "agent.name": " ".join(context.agent_name.split()),
        "workspace.name": context.workspace_name,
    }


def render(body: str, values: dict[str, str]) -> str:
    """`body` with each known placeholder replaced by its value, in one pass (a value is
    never scanned for placeholders).  An unknown placeholder stays as written.  An empty
    value also removes the space before it when no word follows ("Bonjour {{x}}," gives
    "Bonjour,")."""

    def substitute(match: re.Match[str]) -> str:
        space, name = match.group(1), match.group(2)
        if name not in values:
            return match.group(0)
        value = values[name]
        if value:
            return space + value
        following = match.string[match.end() : match.end() + 1]
        return space if following.isalnum() else ""

    return _PLACEHOLDER.sub(substitute, body)


# -- canned responses ----------------------------------------------------------------------


@dataclass(frozen=True)
class CannedResponse:
    id: str
    workspace_id: str
    name: str
    body: str
    locale: str  # "en" | "fr": the language of the body, and of placeholder fallbacks
    set_status: TicketStatus | None
    add_tags: list[str]
    created_by: str
    created_at: datetime
    updated_at: datetime
    revision: int = 0  # optimistic lock: every write checks and bumps it

    @property
    def name_key(self) -> str:
        return name_key(self.name)


def name_key(name: str) -> str:
    """What makes two names the same: case and runs of spaces do not count."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class CannedPage:
    canned_responses: list[CannedResponse]
    next_cursor: str | None


class CannedNameTaken(Exception):
    """Another canned response of the workspace has this name."""


class StaleCannedResponse(Exception):
    """The canned response changed or went since it was read."""


class CannedResponseStore(Protocol):
    """Persistence of canned responses; every method makes one or two calls."""

    def create(self, canned: CannedResponse) -> None:
        """Writes the response and claims its name.  Raises CannedNameTaken, or
        StaleCannedResponse when a concurrent write got in the way (try again)."""

    def get(self, workspace_id: str, canned_id: str) -> CannedResponse | None: ...

    def list(
        self, workspace_id: str, name_prefix: str, cursor: str | None, limit: int
    ) -> CannedPage:
        """By name; only names starting with `name_prefix` (a name key)."""

    def save(self, before: CannedResponse, after: CannedResponse) -> None:
        """Writes `after` if still at `before.revision`, moving the name claim when renamed.
        Raises StaleCannedResponse or CannedNameTaken."""

    def delete(self, canned: CannedResponse) -> None:
        """Deletes it and its name claim if still at its revision.  Raises
        StaleCannedResponse."""


@dataclass(frozen=True)
class CannedDeps:
    store: CannedResponseStore
    tickets: TicketDeps


def _tags(tags: list[str]) -> list[str]:
    try:
        return normalise_tags(tags)
    except ValidationFailed as e:
        raise ValidationFailed(
            e.message, details=[{"field": "add_tags", "message": e.message}]
        ) from e


def _name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_NAME_CHARS:
        raise ValidationFailed(
            f"A name has 1 to {MAX_NAME_CHARS} characters.",
            details=[{"field": "name", "message": f"1 to {MAX_NAME_CHARS} characters"}],
        )
    return cleaned


def _retrying(write: Callable[[], T]) -> T:
    return retry_stale(
        write,
        (StaleCannedResponse,),
        Conflict(
            "The canned response is being changed by others; try again.",
            code="canned_response_busy",
        ),
        WRITE_ATTEMPTS,
    )


def _name_taken(name: str) -> Conflict:
    return Conflict(
        f"A canned response is already called {name!r}.", code="canned_response_name_taken"
    )


@dataclass(frozen=True)
class CannedDraft:
    name: str
    body: str
    locale: str | None = None  # default: the workspace's language
    set_status: TicketStatus | None = None
    add_tags: list[str] | None = None


def create_canned_response(
    deps: CannedDeps, principal: Principal, draft: CannedDraft
) -> CannedResponse:
    """Checks placeholders and tags, then writes the response (409 if the name is taken in
    the workspace, whatever its case)."""
    check_placeholders(draft.body)
    locale = draft.locale
    if locale is None:
        workspace = deps.tickets.accounts.get_workspace(principal.workspace_id)
        locale = workspace.locale if workspace and workspace.locale in SUPPORTED_LOCALES else "en"
    now = deps.tickets.clock.now()
    canned = CannedResponse(
        id=new_id(),
        workspace_id=principal.workspace_id,
        name=_name(draft.name),
        body=draft.body,
        locale=locale,
        set_status=draft.set_status,
        add_tags=_tags(draft.add_tags or []),
        created_by=principal.actor,
        created_at=now,
        updated_at=now,
    )

    def write() -> CannedResponse:
        try:
            deps.store.create(canned)
        except CannedNameTaken as e:
            raise _name_taken(canned.name) from e
        return canned

    return _retrying(write)


def list_canned_responses(
    deps: CannedDeps, workspace_id: str, q: str | None, cursor: str | None, limit: int
) -> CannedPage:
    """By name; with `q`, only names starting with it (case-insensitive).  One Query."""
    return deps.store.list(workspace_id, name_key(q or ""), cursor, limit)


def get_canned_response(deps: CannedDeps, workspace_id: str, canned_id: str) -> CannedResponse:
    """404 for an id of another workspace (or none at all)."""
    canned = deps.store.get(workspace_id, canned_id) if len(canned_id) == 26 else None
    if canned is None:
        raise NotFound("No such canned response.", code="canned_response_not_found")
    return canned


@dataclass(frozen=True)
class CannedChanges:
    name: str | None = None
    body: str | None = None
    locale: str | None = None
    set_status: TicketStatus | None = None
    clear_status: bool = False
    add_tags: list[str] | None = None


def update_canned_response(
    deps: CannedDeps, workspace_id: str, canned_id: str, changes: CannedChanges
) -> CannedResponse:
    """Applies the changes to the current version (re-read on a concurrent change); 409 when
    renamed to a name already taken, 404 when gone."""
    if changes.body is not None:
        check_placeholders(changes.body)
    name = _name(changes.name) if changes.name is not None else None
    tags = _tags(changes.add_tags) if changes.add_tags is not None else None

    def write() -> CannedResponse:
        current = get_canned_response(deps, workspace_id, canned_id)
        updated = replace(
            current,
            name=name if name is not None else current.name,
            body=changes.body if changes.body is not None else current.body,
            locale=changes.locale or current.locale,
            set_status=None if changes.clear_status else changes.set_status or current.set_status,
            add_tags=tags if tags is not None else current.add_tags,
        )
        if updated == current:
            return current
        updated = replace(
            updated, updated_at=deps.tickets.clock.now(), revision=current.revision + 1
        )
        try:
            deps.store.save(current, updated)
        except CannedNameTaken as e:
            raise _name_taken(updated.name) from e
        return updated

    return _retrying(write)


def delete_canned_response(deps: CannedDeps, workspace_id: str, canned_id: str) -> None:
    """Deletes the response and frees its name; 404 when already gone."""

    def write() -> None:
        deps.store.delete(get_canned_response(deps, workspace_id, canned_id))

    _retrying(write)


# -- applying to a ticket ------------------------------------------------------------------


@dataclass(frozen=True)
class AppliedCanned:
    body: str
    set_status: TicketStatus | None
    add_tags: list[str]
    ticket: Ticket | None = None  # when sent: the ticket after the reply, status and tags
    message: Message | None = None  # when sent: the reply


def apply_canned_response(
    deps: CannedDeps,
    principal: Principal,
    ticket_ref: str,
    canned_id: str,
    send: bool = False,
    last_seen_message_id: str | None = None,
) -> AppliedCanned:
    """The response rendered for this ticket and agent.  With `send`, also posts it as a
    reply (queued for e-mail, see `post_agent_message`) and then applies its status and tags
    (`change_ticket`); everything that can be refused is checked before the reply is sent."""
    tickets = deps.tickets
    workspace_id = principal.workspace_id
    canned = get_canned_response(deps, workspace_id, canned_id)
    ticket = get_ticket(tickets, workspace_id, ticket_ref)
    workspace = existing_workspace(tickets.accounts, workspace_id)
    member = (
        tickets.accounts.get_member(workspace_id, principal.user_id) if principal.user_id else None
    )
    agent_name = member.name if member else workspace.name
    context = RenderContext(
        requester_name=ticket.requester_name,
        requester_email=ticket.requester_email,
        ticket_number=ticket.number,
        ticket_subject=ticket.subject,
        agent_name=agent_name,
        workspace_name=workspace.name,
    )
    body = render(canned.body, placeholder_values(context, canned.locale))
    applied = AppliedCanned(body, canned.set_status, canned.add_tags)
    if not send:
        return applied
    if not body.strip():
        raise ValidationFailed(
            "This canned response renders empty for this ticket; nothing was sent.",
            code="empty_reply",
            details=[{"field": "send", "message": "the rendered reply is empty"}],
        )
    if canned.add_tags:
        _tags([*ticket.tags, *canned.add_tags])  # 422 now rather than after sending
    if ticket.merged_into:
        raise Conflict("This ticket was merged into another one.", code="ticket_merged")
    updated, posted = post_agent_message(
        tickets,
        workspace,
        ticket.id,
        principal.actor,
        agent_name,
        principal.user_id,
        AgentMessage(
            kind=MessageKind.REPLY,
            body=body,
            cc=[],
            last_seen_message_id=last_seen_message_id,
        ),
    )
    if canned.set_status is not None or canned.add_tags:
        updated = change_ticket(
            tickets,
            workspace_id,
            ticket.id,
            principal.actor,
            TicketChanges(
                status=canned.set_status,
                tags=[*updated.tags, *canned.add_tags] if canned.add_tags else None,
            ),
        )
    return replace(applied, ticket=updated, message=posted)
