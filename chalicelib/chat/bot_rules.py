"""The answer bot's rules, apart from storage and the model: when it answers a visitor's
question, when it hands the conversation to the team and why, and what its state is.

The bot's state is read from the conversation's ticket itself (its messages and activity log),
so that every decision is taken under the ticket's optimistic lock: the bot's answers are
`bot` messages naming the visitor message they answer (`in_reply_to`), a visitor's feedback
is a `bot_feedback` activity entry (before: the answer's id, after: `helped`/`unhelpful`), a
hand-off a `handoff` entry (after: the reason) with the bot's note."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from chalicelib.ai.language import SUPPORTED_LANGUAGES, detect_language
from chalicelib.tickets.model import Activity, Message, MessageKind

BOT_AUTHOR = "bot"
HANDOFF_ACTION = "handoff"
FEEDBACK_ACTION = "bot_feedback"
HELPED, UNHELPFUL = "helped", "unhelpful"
UNHELPFUL_LIMIT = 2  # answers the visitor said did not help before the team takes over
QUESTION_CHARS = 200  # of a question kept in a note or the insights


class HandoffReason(StrEnum):
    NO_ARTICLE = "no_article"  # no published article answers the question
    VISITOR_ASKED = "visitor_asked"  # the visitor asked for a person
    UNHELPFUL = "unhelpful"  # UNHELPFUL_LIMIT answers did not help
    BOT_UNAVAILABLE = "bot_unavailable"  # the model could not answer now


_REASON_TEXT: dict[str, str] = {
    HandoffReason.NO_ARTICLE: "no published article answers the visitor's question",
    HandoffReason.VISITOR_ASKED: "the visitor asked to talk to a person",
    HandoffReason.UNHELPFUL: "the visitor said two of its answers did not help",
    HandoffReason.BOT_UNAVAILABLE: "the AI provider could not answer",
}

# Plain requests for a person, in English and French: matched before any model call.
_PERSON = re.compile(
    r"\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:a\s+|an\s+|the\s+|your\s+|some\s*)?"
    r"(?:real\s+|live\s+)?(?:person|human|one|body|agent|representative|team|staff)\b"
    r"|\b(?:real|live)\s+(?:person|human|agent)\b"
    r"|\bhuman\s+(?:please|agent|being)\b"
    r"|\bun\s+(?:être\s+)?humain\b"
    r"|\bune\s+(?:vraie\s+)?personne\b"
    r"|\bparler\s+(?:à|a|avec)\s+(?:quelqu['\u2019]un|un\s+conseiller|un\s+agent|une?\s+\w+)"
    r"|\bun\s+conseiller\b",
    re.IGNORECASE,
)


def asks_for_person(text: str) -> bool:
    """The visitor plainly asks for a person of the team (English or French)."""
    return bool(_PERSON.search(text))


@dataclass(frozen=True)
class BotState:
    """What the bot did and was told on one conversation."""

    handoff: str | None = None  # the reason it was handed off; None: still the bot's
    feedback: dict[str, bool] = field(default_factory=dict)  # answer id -> helped
    answered: frozenset[str] = frozenset()  # visitor message ids the bot answered
    answers: int = 0
    team_replied: bool = False  # a teammate answered in the chat: the bot stays quiet

    @property
    def unhelpful(self) -> int:
        return sum(1 for helped in self.feedback.values() if not helped)

    @property
    def helped(self) -> bool:
        return any(self.feedback.values())


def bot_state(messages: Sequence[Message], activity: Sequence[Activity]) -> BotState:
    handoff: str | None = None
    feedback: dict[str, bool] = {}
    for entry in activity:
        if entry.action == HANDOFF_ACTION and handoff is None:
            handoff = entry.after or HandoffReason.NO_ARTICLE.value
        elif entry.action == FEEDBACK_ACTION and entry.before and entry.before not in feedback:
            feedback[entry.before] = entry.after == HELPED
    answers = [m for m in messages if m.kind is MessageKind.BOT]
    if handoff is None and any(
        m.kind is MessageKind.NOTE and m.author == BOT_AUTHOR for m in messages
    ):
        handoff = HandoffReason.NO_ARTICLE.value  # the note is written with the entry
    return BotState(
        handoff=handoff,
        feedback=feedback,
        answered=frozenset(i for m in answers for i in m.in_reply_to),
        answers=len(answers),
        team_replied=any(m.kind is MessageKind.REPLY for m in messages),
    )


class Step(StrEnum):
    ANSWER = "answer"  # look for articles and ask the model
    SKIP = "skip"
    HAND_OFF = "hand_off"


@dataclass(frozen=True)
class Decision:
    step: Step
    reason: str = ""  # why skipped, or the hand-off reason


def before_answering(state: BotState, message: Message) -> Decision:
    """What to do with a visitor's message before anything is asked of anyone."""
    if message.kind is not MessageKind.CUSTOMER:
        return Decision(Step.SKIP, "not_a_visitor_message")
    if state.handoff is not None:
        return Decision(Step.SKIP, "handed_off")
    if state.team_replied:
        return Decision(Step.SKIP, "team_replied")
    if message.id in state.answered:
        return Decision(Step.SKIP, "already_answered")
    if state.unhelpful >= UNHELPFUL_LIMIT:
        return Decision(Step.HAND_OFF, HandoffReason.UNHELPFUL)
    if asks_for_person(message.text):
        return Decision(Step.HAND_OFF, HandoffReason.VISITOR_ASKED)
    return Decision(Step.ANSWER)


def feedback_hands_off(state: BotState, helped: bool) -> bool:
    """This feedback (not yet in `state`) makes the answers that did not help reach the
    limit while the conversation is still the bot's."""
    return not helped and state.handoff is None and state.unhelpful + 1 >= UNHELPFUL_LIMIT


def answer_language(message: Message, fallback: str) -> str:
    """The language to answer in: the one the visitor wrote in, else their browser's, else
    `fallback` (the workspace's)."""
    detected = detect_language(message.text)
    if detected:
        return detected
    browser = (message.chat.language or "") if message.chat else ""
    primary = browser.split("-")[0].split("_")[0].lower()
    if primary in SUPPORTED_LANGUAGES:
        return primary
    return fallback if fallback in SUPPORTED_LANGUAGES else "en"


def fold_question(text: str) -> str:
    """A question as counted in the insights: lower case, spaces collapsed, cut."""
    return " ".join(text.lower().split())[:QUESTION_CHARS]


def short_question(text: str) -> str:
    return " ".join(text.split())[:QUESTION_CHARS]


def visitor_questions(messages: Sequence[Message], up_to: str | None = None) -> list[str]:
    """The visitor's messages (up to the message `up_to`, included), as short lines."""
    questions = []
    for message in messages:
        if message.kind is MessageKind.CUSTOMER and message.text.strip():
            questions.append(short_question(message.text))
        if message.id == up_to:
            break
    return questions


def handoff_note(reason: str, questions: Sequence[str], summary: str = "") -> str:
    """The internal note the team finds on a conversation the bot handed over: why, then
    the model's summary when there is one, else the visitor's questions."""
    why = _REASON_TEXT.get(reason, reason)
    lines = [f"The answer bot handed this conversation to the team: {why}."]
    if summary.strip():
        lines.append(f"Summary: {summary.strip()}")
    elif questions:
        lines.append("The visitor asked:\n" + "\n".join(f"- {q}" for q in questions[-5:]))
    return "\n\n".join(lines)
