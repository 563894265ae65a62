"""Planned changes and providers as plain JSON-ready dicts: how the store keeps them and how
the operator writes a change file (`python -m infra.subprocessors plan --file change.json`).

    {"kind": "replace", "effective_at": "2026-07-01T00:00:00Z",
     "summary": {"en": "...", "fr": "..."},
     "subprocessor": {"id": "aws-ap-southeast-1", "name": "Amazon Web Services",
                      "legal_entity": "...", "location": {"en": "Singapore", "fr": "Singapour"},
                      "purpose": {"en": "...", "fr": "..."}, "category": "hosting",
                      "processes_workspace_content": true},
     "replaces": ["vultr", "digitalocean", "neon", "upstash"]}

Reading raises `BadChangeRecord` naming what is missing or wrong (never a KeyError)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from chalicelib.privacy.model import (
    Category,
    ChangeKind,
    Integration,
    PlannedChange,
    SubProcessor,
    Words,
)

# Provider ids: lower-case slugs, as in the seed ("aws-ap-southeast-1").
PROVIDER_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
MAX_TEXT = 2000
# Control characters other than tab and line breaks; names take no line break either.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029]")
# The years a recorded moment may fall in: any later and the notice job's dates overflow.
YEARS = (2000, 2999)
SUBPROCESSOR_FIELDS = frozenset(
    {"id", "name", "legal_entity", "location", "purpose", "category"}
    | {"processes_workspace_content"}
)


class BadChangeRecord(ValueError):
    """A change file or stored item that does not describe a change."""


def words_dict(words: Words) -> dict[str, str]:
    return {"en": words.en, "fr": words.fr}


def subprocessor_dict(provider: SubProcessor) -> dict[str, Any]:
    return {
        "id": provider.id,
        "name": provider.name,
        "legal_entity": provider.legal_entity,
        "location": words_dict(provider.location),
        "purpose": words_dict(provider.purpose),
        "category": provider.category.value,
        "processes_workspace_content": provider.processes_workspace_content,
    }


def integration_dict(integration: Integration) -> dict[str, Any]:
    return {
        "id": integration.id,
        "name": integration.name,
        "location": words_dict(integration.location),
        "purpose": words_dict(integration.purpose),
    }


def moment_text(moment: datetime) -> str:
    """A UTC time as `2026-07-01T00:00:00Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def change_dict(change: PlannedChange) -> dict[str, Any]:
    return {
        "id": change.id,
        "kind": change.kind.value,
        "announced_at": moment_text(change.announced_at),
        "effective_at": moment_text(change.effective_at),
        "summary": words_dict(change.summary),
        "subprocessor": subprocessor_dict(change.subprocessor) if change.subprocessor else None,
        "replaces": list(change.replaces),
        "planned_by": change.planned_by,
    }


# -- reading --------------------------------------------------------------------------------


def _text(
    raw: dict[str, Any], name: str, where: str, *, empty: bool = False, one_line: bool = False
) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise BadChangeRecord(f"{where}{name}: a non-empty text is required")
    if len(value) > MAX_TEXT:
        raise BadChangeRecord(f"{where}{name}: at most {MAX_TEXT} characters")
    if _CONTROL.search(value):
        raise BadChangeRecord(f"{where}{name}: control characters are not allowed")
    if one_line and _LINE_BREAK.search(value.strip()):
        raise BadChangeRecord(f"{where}{name}: one line is required (no line break)")
    return value.strip()


def _words(raw: dict[str, Any], name: str, where: str) -> Words:
    value = raw.get(name)
    if not isinstance(value, dict):
        raise BadChangeRecord(f'{where}{name}: expected {{"en": "...", "fr": "..."}}')
    inner = f"{where}{name}."
    return Words(_text(value, "en", inner), _text(value, "fr", inner))


def provider_id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not PROVIDER_ID.fullmatch(value):
        raise BadChangeRecord(
            f"{where}: a provider id is a lower-case slug (letters, digits, '-'), got {value!r}"
        )
    return value


def subprocessor_from(raw: Any, where: str = "subprocessor.") -> SubProcessor:
    if not isinstance(raw, dict):
        raise BadChangeRecord(f"{where.rstrip('.')}: expected an object")
    unknown = sorted(set(raw) - SUBPROCESSOR_FIELDS)
    if unknown:
        raise BadChangeRecord(f"{where.rstrip('.')}: unknown fields: {', '.join(unknown)}")
    category = raw.get("category")
    if not isinstance(category, str) or category not in {c.value for c in Category}:
        raise BadChangeRecord(
            f"{where}category: one of {', '.join(c.value for c in Category)}, got {category!r}"
        )
    content = raw.get("processes_workspace_content")
    if not isinstance(content, bool):
        raise BadChangeRecord(f"{where}processes_workspace_content: true or false is required")
    name = _text(raw, "name", where, one_line=True)
    given = raw.get("legal_entity")
    entity = _text(raw, "legal_entity", where, one_line=True) if given not in (None, "") else ""
    return SubProcessor(
        id=provider_id(raw.get("id"), f"{where}id"),
        name=name,
        legal_entity=entity or f"{name} (full legal entity named in the DPA)",
        location=_words(raw, "location", where),
        purpose=_words(raw, "purpose", where),
        category=Category(category),
        processes_workspace_content=content,
    )


def parse_moment(value: Any, where: str) -> datetime:
    """`2026-07-01` (midnight UTC) or an ISO 8601 time with its offset (`...Z`, `+08:00`)."""
    if not isinstance(value, str):
        raise BadChangeRecord(f"{where}: an ISO 8601 date or time is required")
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(value)
    except ValueError as e:
        raise BadChangeRecord(f"{where}: not an ISO 8601 date or time: {value!r}") from e
    if moment.tzinfo is None:
        raise BadChangeRecord(f"{where}: give the time's offset (e.g. {value}Z for UTC)")
    first, last = YEARS
    # The local year first: converting a moment at the ends of the calendar overflows.
    if not first <= moment.year <= last or not first <= moment.astimezone(UTC).year <= last:
        raise BadChangeRecord(f"{where}: a moment in the years {first} to {last}, got {value!r}")
    return moment.astimezone(UTC)


def draft_fields(raw: Any, *, recorded: bool = False) -> dict[str, Any]:
    """The fields of a change file: kind, effective_at, summary, subprocessor, replaces
    (`recorded`: a stored change, which also holds its id, announcement and planner)."""
    if not isinstance(raw, dict):
        raise BadChangeRecord("a change is a JSON object")
    known = {"kind", "effective_at", "summary", "subprocessor", "replaces"}
    if recorded:
        known |= {"id", "announced_at", "planned_by"}
    unknown = sorted(set(raw) - known)
    if unknown:
        # The id, the announcement and who planned it are the command's to set.
        raise BadChangeRecord(f"unknown fields: {', '.join(unknown)}")
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in {k.value for k in ChangeKind}:
        raise BadChangeRecord(
            f"kind: one of {', '.join(k.value for k in ChangeKind)}, got {kind!r}"
        )
    replaces = raw.get("replaces", [])
    if not isinstance(replaces, list):
        raise BadChangeRecord("replaces: a list of provider ids")
    given = raw.get("subprocessor")
    return {
        "kind": ChangeKind(kind),
        "effective_at": parse_moment(raw.get("effective_at"), "effective_at"),
        "summary": _words(raw, "summary", ""),
        "subprocessor": subprocessor_from(given) if given is not None else None,
        "replaces": tuple(provider_id(r, f"replaces[{i}]") for i, r in enumerate(replaces)),
    }


def change_from(raw: Any) -> PlannedChange:
    """A recorded change (as `change_dict` wrote it)."""
    fields = draft_fields(raw, recorded=True)
    return PlannedChange(
        id=_text(raw, "id", ""),
        announced_at=parse_moment(raw.get("announced_at"), "announced_at"),
        planned_by=str(raw.get("planned_by") or ""),
        **fields,
    )
