"""Chat insights: per workspace and month (in the workspace's time zone), how many
conversations started, how many the answer bot answered and resolved, why conversations went
to the team, and the questions no article answered.

A conversation counts in the month it started: the bot's answers and hand-offs on it are
counted there too, so that the shares of a month add up.  Counters are one item per
workspace and month moved atomically; the unanswered questions a bounded set of items."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.chat.bot_rules import HandoffReason, fold_question, short_question
from chalicelib.errors import ValidationFailed

if TYPE_CHECKING:
    from chalicelib.accounts.model import Principal
    from chalicelib.accounts.ports import AccountsStore
    from chalicelib.kb.search import SearchGaps

UNANSWERED_SHOWN = 20
# Distinct unanswered questions kept per workspace and month (more are not itemised).
UNANSWERED_KEPT = 200
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class Counter(StrEnum):
    CONVERSATIONS = "conversations"
    BOT_ANSWERED = "bot_answered"  # conversations the bot answered at least once
    # Of those, handed to the team without the visitor saying an answer helped.
    BOT_LOST = "bot_lost"


def handoff_counter(reason: str) -> str:
    return f"handoff_{reason}"


class ChatInsightsStore(Protocol):
    def add(self, workspace_id: str, month: str, counts: dict[str, int]) -> None:
        """Adds to the month's counters (one atomic update)."""

    def add_unanswered(self, workspace_id: str, month: str, folded: str, question: str) -> bool:
        """Counts one more time the question was asked without an answer; False when the
        month already keeps `UNANSWERED_KEPT` other questions (not itemised)."""

    def counters(self, workspace_id: str, month: str) -> dict[str, int]: ...

    def unanswered(self, workspace_id: str, month: str) -> list[tuple[str, int]]:
        """The month's unanswered questions and their counts (at most UNANSWERED_KEPT)."""


@dataclass(frozen=True)
class ChatInsights:
    month: str
    conversations: int
    bot_answered: int
    resolved_by_bot: int
    resolved_by_bot_share: float  # of the month's conversations
    handoffs: dict[str, int]
    unanswered_questions: list[tuple[str, int]]


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def month_of(at: datetime, timezone: str | None) -> str:
    """`at`'s month ("YYYY-MM") in the time zone `timezone` (UTC when unknown)."""
    return at.astimezone(_zone(timezone)).strftime("%Y-%m")


def workspace_month(accounts: AccountsStore, workspace_id: str, at: datetime) -> str:
    """`at`'s month in the workspace's time zone (one GetItem)."""
    workspace = accounts.get_workspace(workspace_id)
    return month_of(at, workspace.timezone if workspace else None)


def checked_month(month: str) -> str:
    if not _MONTH.match(month) or not "2000" <= month[:4] <= "2999":
        raise ValidationFailed(
            "month: give a month as YYYY-MM, e.g. 2026-05.",
            details=[{"field": "month", "message": "expected YYYY-MM"}],
        )
    return month


def chat_insights(
    store: ChatInsightsStore,
    accounts: AccountsStore,
    principal: Principal,
    month: str | None,
    now: datetime,
) -> ChatInsights:
    """The caller's workspace's chat figures for `month` (default: the current month in the
    workspace's time zone).  Reads: the workspace (no month given), one GetItem, one Query."""
    if month is None:
        month = workspace_month(accounts, principal.workspace_id, now)
    month = checked_month(month)
    counts = store.counters(principal.workspace_id, month)
    conversations = max(0, counts.get(Counter.CONVERSATIONS, 0))
    answered = max(0, counts.get(Counter.BOT_ANSWERED, 0))
    resolved = max(0, answered - max(0, counts.get(Counter.BOT_LOST, 0)))
    ranked = sorted(store.unanswered(principal.workspace_id, month), key=lambda q: (-q[1], q[0]))[
        :UNANSWERED_SHOWN
    ]
    return ChatInsights(
        month=month,
        conversations=conversations,
        bot_answered=answered,
        resolved_by_bot=resolved,
        resolved_by_bot_share=round(resolved / conversations, 4) if conversations else 0.0,
        handoffs={
            reason.value: max(0, counts.get(handoff_counter(reason), 0)) for reason in HandoffReason
        },
        unanswered_questions=ranked,
    )


def count_conversation(
    store: ChatInsightsStore, accounts: AccountsStore, workspace_id: str, at: datetime
) -> None:
    """One more conversation started at `at` (one GetItem, one UpdateItem)."""
    store.add(workspace_id, workspace_month(accounts, workspace_id, at), {Counter.CONVERSATIONS: 1})


def record_unanswered(
    store: ChatInsightsStore,
    gaps: SearchGaps,
    workspace_id: str,
    month: str,
    question: str,
    at: datetime,
) -> None:
    """A question no article answered: in the month's insights and in the knowledge base's
    search insights (content gaps), where writers look for what to write."""
    folded = fold_question(question)
    if not folded:
        return
    store.add_unanswered(workspace_id, month, folded, short_question(question))
    gaps.record(workspace_id, folded, short_question(question), at)
