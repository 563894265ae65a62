"""Knowledge-base search for agents (internal articles included) and the searches that
found nothing useful (content gaps)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.helpcentre_settings import current_settings, help_centre_url
from chalicelib.api.routing import Call, operation
from chalicelib.lazy import lazy_module
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.api.schemas import KbSearchOut, KbSearchQuery, SearchInsightsOut

schemas = lazy_module("chalicelib.api.schemas")
bp = Blueprint(__name__)


@operation(
    bp,
    "GET",
    "/v1/kb/search",
    summary="Search the knowledge base (internal articles included)",
    tag="knowledge-base",
    query="KbSearchQuery",
    response="KbSearchOut",
    errors=(401, 422),
)
def search_kb(call: Call) -> KbSearchOut:
    from chalicelib.kb.search import search_kb as search

    query: KbSearchQuery = call.query
    workspace = call.workspace(bootstrap.account_deps().store)
    base = help_centre_url(workspace, current_settings(workspace))
    # Internal articles have no public page: they open in the agents' app.
    app_articles = get_settings().app_base_url.rstrip("/") + "/kb/articles/"
    hits = search(
        bootstrap.kb_index_cache(),
        bootstrap.kb_search_gaps(),
        call.member.workspace_id,
        query.q,
        query.locale,
        query.limit,
        include_internal=True,
        now=bootstrap.clock().now(),
        embedder_for=bootstrap.kb_embedder_for,
    )
    return schemas.KbSearchOut(
        hits=[
            {
                "article_id": h.article_id,
                "title": h.title,
                "url": app_articles + h.article_id if h.internal else base + h.url,
                "internal": h.internal,
                "passage": h.highlighted_passage,
                "score": round(h.score, 4),
            }
            for h in hits
        ]
    )


@operation(
    bp,
    "GET",
    "/v1/kb/search-insights",
    summary="Searches that found nothing useful (content gaps), most frequent first",
    tag="knowledge-base",
    response="SearchInsightsOut",
    errors=(401,),
)
def search_insights(call: Call) -> SearchInsightsOut:
    from chalicelib.kb.search import content_gaps

    gaps = content_gaps(bootstrap.kb_search_gaps(), call.member)
    return schemas.SearchInsightsOut(
        failed_queries=[
            {"query": text, "searches": count, "last_searched_at": at} for text, count, at in gaps
        ]
    )
