"""Chat insights for the team: what the answer bot answered, resolved and handed over."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.routing import Call, operation
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api.schemas import ChatInsightsOut, ChatInsightsQuery

schemas = lazy_module("chalicelib.api.schemas")
bp = Blueprint(__name__)


@operation(
    bp,
    "GET",
    "/v1/chat/insights",
    summary="Chat figures of a month: conversations, the answer bot's share, hand-offs and "
    "the questions no article answered",
    tag="chat",
    query="ChatInsightsQuery",
    response="ChatInsightsOut",
    errors=(401, 422),
)
def get_chat_insights(call: Call) -> ChatInsightsOut:
    from chalicelib.chat.insights import chat_insights

    query: ChatInsightsQuery = call.query
    insights = chat_insights(
        bootstrap.chat_insights_store(),
        bootstrap.account_deps().store,
        call.member,
        query.month,
        bootstrap.clock().now(),
    )
    return schemas.ChatInsightsOut(
        month=insights.month,
        conversations=insights.conversations,
        bot_answered=insights.bot_answered,
        resolved_by_bot=insights.resolved_by_bot,
        resolved_by_bot_share=insights.resolved_by_bot_share,
        handoffs=insights.handoffs,
        unanswered_questions=[
            {"question": question, "count": count}
            for question, count in insights.unanswered_questions
        ],
    )
