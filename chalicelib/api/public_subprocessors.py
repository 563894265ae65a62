"""The sub-processor list and its changelog as JSON (no login; cacheable a few minutes):
the twins of the pages `/legal/subprocessors` and `/legal/subprocessors/changelog`.
Texts are given in both languages (`{"en", "fr"}`); the English is authoritative."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.routing import JSON, Call, operation
from chalicelib.lazy import lazy_module
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.privacy.model import PlannedChange, SubProcessor
    from chalicelib.privacy.registry import Published

schemas = lazy_module("chalicelib.api.schemas")
records = lazy_module("chalicelib.privacy.records")
registry = lazy_module("chalicelib.privacy.registry")
seed = lazy_module("chalicelib.privacy.subprocessors")
bp = Blueprint(__name__)

TAG = "legal"
LIST_CACHE = "public, max-age=300"


def _shown() -> Published:
    return registry.published(bootstrap.subprocessor_changes(), bootstrap.clock().now())


def _provider(provider: SubProcessor) -> dict[str, Any]:
    return dict(records.subprocessor_dict(provider))


def _change(change: PlannedChange, names: dict[str, SubProcessor]) -> dict[str, Any]:
    # Never `planned_by`: the operator's identity is not published.
    return {
        "id": change.id,
        "kind": change.kind.value,
        "announced_at": change.announced_at,
        "effective_at": change.effective_at,
        "summary": records.words_dict(change.summary),
        "subprocessor": _provider(change.subprocessor) if change.subprocessor else None,
        "replaces": [
            {"id": r, "name": names[r].name if r in names else r} for r in change.replaces
        ],
        "processes_workspace_content": change.processes_workspace_content,
    }


def _cached(answer: Any) -> Response:
    import json

    return Response(
        body=json.dumps(answer.model_dump(mode="json"), ensure_ascii=False),
        status_code=200,
        headers={"Content-Type": JSON, "Cache-Control": LIST_CACHE},
    )


@operation(
    bp,
    "GET",
    "/v1/public/subprocessors",
    summary="The sub-processor list",
    tag=TAG,
    auth=False,
    response="SubprocessorListOut",
    description="Helptal's sub-processors in force now, by category, with the changes "
    "announced and not yet in force and the integrations that are not sub-processors. No "
    "login; `Cache-Control: public, max-age=300`.",
)
def public_subprocessors(call: Call) -> Response:
    from chalicelib.privacy.model import Category

    shown = _shown()
    base = get_settings().public_base_url.rstrip("/")
    return _cached(
        schemas.SubprocessorListOut(
            at=shown.view.at,
            last_updated=shown.view.last_updated,
            notice_days=registry.NOTICE_DAYS,
            categories=[
                {
                    "id": c.value,
                    "title": records.words_dict(seed.CATEGORY_TITLES[c]),
                    "note": records.words_dict(seed.CATEGORY_NOTES[c]),
                }
                for c in Category
            ],
            subprocessors=[_provider(p) for p in shown.view.current],
            upcoming=[_change(c, shown.providers) for c in shown.view.upcoming],
            integrations=[records.integration_dict(i) for i in shown.view.integrations],
            page_url=f"{base}/legal/subprocessors",
            changelog_url=f"{base}/legal/subprocessors/changelog",
        )
    )


@operation(
    bp,
    "GET",
    "/v1/public/subprocessors/changelog",
    summary="The sub-processor changelog",
    tag=TAG,
    auth=False,
    response="SubprocessorChangelogOut",
    description="Additions, replacements and removals in force over the last 24 months "
    "(newest first), and the changes announced and not yet in force. No login; "
    "`Cache-Control: public, max-age=300`.",
)
def public_subprocessors_changelog(call: Call) -> Response:
    shown = _shown()
    return _cached(
        schemas.SubprocessorChangelogOut(
            at=shown.view.at,
            since=registry.months_before(shown.view.at, registry.CHANGELOG_MONTHS),
            published_at=seed.SEED_DATE,
            changes=[_change(c, shown.providers) for c in shown.view.changelog],
            upcoming=[_change(c, shown.providers) for c in shown.view.upcoming],
        )
    )
