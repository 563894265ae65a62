"""Chat insights schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from chalicelib.api.schemas.common import Outgoing, QueryParams


class ChatInsightsQuery(QueryParams):
    month: Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] | None = Field(
        default=None, description="YYYY-MM; default: this month in the workspace's time zone."
    )


class ChatHandoffsOut(Outgoing):
    no_article: int = Field(description="No published article answered the visitor.")
    visitor_asked: int = Field(description="The visitor asked to talk to a person.")
    unhelpful: int = Field(description="The visitor said two of the bot's answers did not help.")
    bot_unavailable: int = Field(description="The AI provider could not answer at the time.")


class UnansweredQuestionOut(Outgoing):
    question: str = Field(description="The visitor's question (as first asked, shown as text).")
    count: int = Field(description="How many times it was asked without an answer this month.")


class ChatInsightsOut(Outgoing):
    month: str = Field(description="The month, `YYYY-MM`, in the workspace's time zone.")
    conversations: int = Field(description="Chat conversations started in the month.")
    bot_answered: int = Field(
        description="Of those, the conversations the answer bot answered at least once."
    )
    resolved_by_bot: int = Field(
        description="Conversations the bot answered and never handed to the team, or where "
        "the visitor said an answer helped."
    )
    resolved_by_bot_share: float = Field(
        description="`resolved_by_bot` as a share of `conversations` (0 to 1)."
    )
    handoffs: ChatHandoffsOut = Field(description="Conversations handed to the team, by reason.")
    unanswered_questions: list[UnansweredQuestionOut] = Field(
        description="The questions no article answered, most frequent first (at most 20); "
        "they also show in the knowledge base's search insights."
    )
