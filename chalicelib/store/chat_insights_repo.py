"""Chat insights in the table (chalicelib/chat/insights.py).

| access pattern                         | served by                                          |
|----------------------------------------|----------------------------------------------------|
| count a conversation, answer, hand-off | UpdateItem ADD PK=WS#<ws>, SK=CHATSTATS#<month>    |
| count an unanswered question           | UpdateItem ADD PK=WS#<ws>, SK=CHATQ#<month>#<q>    |
|                                        |   if it exists; a new one first takes one of the   |
|                                        |   month's UNANSWERED_KEPT slots (CHATSTATS item)   |
| a month's figures                      | GetItem CHATSTATS#<month>; Query CHATQ#<month>#    |
|                                        |   (at most UNANSWERED_KEPT items)                  |

Both kinds of item expire after `KEPT_SECONDS`."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError

from chalicelib.chat.insights import UNANSWERED_KEPT
from chalicelib.store import keys
from chalicelib.store.models import Item

KEPT_SECONDS = 3 * 366 * 24 * 3600  # three years of monthly figures


class ChatStatsItem(Item, discriminator="chat_stats"):
    """A workspace's chat counters of one month (chalicelib/chat/insights.py's names)."""

    conversations = NumberAttribute(default=0)
    bot_answered = NumberAttribute(default=0)
    bot_lost = NumberAttribute(default=0)
    handoff_no_article = NumberAttribute(default=0)
    handoff_visitor_asked = NumberAttribute(default=0)
    handoff_unhelpful = NumberAttribute(default=0)
    handoff_bot_unavailable = NumberAttribute(default=0)
    question_slots = NumberAttribute(default=0)


COUNTERS = (
    "conversations",
    "bot_answered",
    "bot_lost",
    "handoff_no_article",
    "handoff_visitor_asked",
    "handoff_unhelpful",
    "handoff_bot_unavailable",
)


class ChatQuestionItem(Item, discriminator="chat_question"):
    question = UnicodeAttribute()
    asked = NumberAttribute(default=0)


def _expires(month: str) -> int:
    from datetime import UTC, datetime

    year, number = int(month[:4]), int(month[5:7])
    return int(datetime(year, number, 1, tzinfo=UTC).timestamp()) + KEPT_SECONDS


def _failed_condition(error: UpdateError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


class DynamoChatInsights:
    def add(self, workspace_id: str, month: str, counts: dict[str, int]) -> None:
        unknown = set(counts) - set(COUNTERS)
        if unknown:
            raise ValueError(f"no chat counter named {sorted(unknown)}")
        if not counts:
            return
        item = ChatStatsItem(keys.workspace_pk(workspace_id), keys.chat_stats_sk(month))
        item.update(
            actions=[
                *(getattr(ChatStatsItem, str(name)).add(by) for name, by in counts.items()),
                ChatStatsItem.kind.set(ChatStatsItem),
                ChatStatsItem.expires_at.set(_expires(month)),
            ]
        )

    def add_unanswered(self, workspace_id: str, month: str, folded: str, question: str) -> bool:
        pk = keys.workspace_pk(workspace_id)
        item = ChatQuestionItem(pk, keys.chat_question_sk(month, folded))
        try:
            item.update(
                actions=[ChatQuestionItem.asked.add(1)], condition=ChatQuestionItem.pk.exists()
            )
            return True
        except UpdateError as e:
            if not _failed_condition(e):
                raise
        stats = ChatStatsItem(pk, keys.chat_stats_sk(month))
        try:
            stats.update(
                actions=[
                    ChatStatsItem.question_slots.add(1),
                    ChatStatsItem.kind.set(ChatStatsItem),
                    ChatStatsItem.expires_at.set(_expires(month)),
                ],
                condition=ChatStatsItem.question_slots.does_not_exist()
                | (ChatStatsItem.question_slots < UNANSWERED_KEPT),
            )
        except UpdateError as e:
            if _failed_condition(e):
                return False
            raise
        item.update(
            actions=[
                ChatQuestionItem.asked.add(1),
                ChatQuestionItem.question.set(question[:500]),
                ChatQuestionItem.kind.set(ChatQuestionItem),
                ChatQuestionItem.expires_at.set(_expires(month)),
            ]
        )
        return True

    def counters(self, workspace_id: str, month: str) -> dict[str, int]:
        try:
            item = ChatStatsItem.get(keys.workspace_pk(workspace_id), keys.chat_stats_sk(month))
        except ChatStatsItem.DoesNotExist:
            return {}
        return {name: int(getattr(item, name) or 0) for name in COUNTERS}

    def unanswered(self, workspace_id: str, month: str) -> list[tuple[str, int]]:
        items = ChatQuestionItem.query(
            keys.workspace_pk(workspace_id),
            ChatQuestionItem.sk.startswith(keys.chat_questions_prefix(month)),
            limit=UNANSWERED_KEPT,
        )
        return [(i.question, int(i.asked)) for i in items]
