"""Knowledge-base categories: a name, a description and a position that orders them, and
their name, description and slug in other locales."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from chalicelib.accounts.model import Principal
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.kb.deps import KbDeps
from chalicelib.kb.helpcentre_site import category_slug
from chalicelib.kb.model import LOCALES, Category, CategoryTranslation
from chalicelib.kb.ports import CategoryInUse, StaleArticle

MAX_CATEGORIES = 200
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class CategoryDraft:
    name: str
    description: str = ""
    position: int = 0
    translations: Mapping[str, CategoryTranslation] = field(default_factory=dict)


def _name(name: str, field_name: str = "name") -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationFailed(
            "A category needs a name.", details=[{"field": field_name, "message": "required"}]
        )
    return cleaned


def _translations(
    translations: Mapping[str, CategoryTranslation],
) -> dict[str, CategoryTranslation]:
    """Cleaned translations, one per known locale (422 for another locale or a blank name)."""
    cleaned = {}
    for locale, translation in sorted(translations.items()):
        if locale not in LOCALES:
            raise ValidationFailed(
                "Categories are translated into English or French only.",
                details=[{"field": f"translations.{locale}", "message": "unknown locale"}],
            )
        slug = translation.slug.strip()
        if slug and not _SLUG.fullmatch(slug):
            raise ValidationFailed(
                "A slug is lowercase letters, digits and single hyphens.",
                details=[{"field": f"translations.{locale}.slug", "message": "invalid slug"}],
            )
        cleaned[locale] = CategoryTranslation(
            name=_name(translation.name, f"translations.{locale}.name"),
            description=translation.description.strip(),
            slug=slug,
        )
    return cleaned


def _refuse_taken_slugs(deps: KbDeps, category: Category) -> None:
    """409 when another category of the workspace has the same slug in one of its locales:
    the help centre finds a category by its slug."""
    others = [c for c in deps.store.list_categories(category.workspace_id) if c.id != category.id]
    for locale in category.translations:
        slug = category_slug(category, locale)
        if any(category_slug(other, locale) == slug for other in others):
            raise Conflict(
                f"Another category already has the slug {slug!r} in this language.",
                code="category_slug_taken",
            )


def create_category(deps: KbDeps, principal: Principal, draft: CategoryDraft) -> Category:
    """Writes a new category (409 when the workspace already has MAX_CATEGORIES)."""
    if len(deps.store.list_categories(principal.workspace_id)) >= MAX_CATEGORIES:
        raise Conflict(
            f"A knowledge base has at most {MAX_CATEGORIES} categories.",
            code="too_many_categories",
        )
    now = deps.clock.now()
    category = Category(
        id=new_id(),
        workspace_id=principal.workspace_id,
        name=_name(draft.name),
        description=draft.description.strip(),
        position=draft.position,
        created_at=now,
        updated_at=now,
        translations=_translations(draft.translations),
    )
    _refuse_taken_slugs(deps, category)
    deps.store.create_category(category)
    return category


def list_categories(deps: KbDeps, workspace_id: str) -> list[Category]:
    """By position, then name (one Query)."""
    return deps.store.list_categories(workspace_id)


def get_category(deps: KbDeps, workspace_id: str, category_id: str) -> Category:
    found = deps.store.get_category(workspace_id, category_id) if len(category_id) == 26 else None
    if found is None:
        raise NotFound("No such category.", code="category_not_found")
    return found


@dataclass(frozen=True)
class CategoryChanges:
    name: str | None = None
    description: str | None = None
    position: int | None = None
    # Replaces the translation of each locale given; None removes that locale's.
    translations: Mapping[str, CategoryTranslation | None] | None = None


def update_category(
    deps: KbDeps, workspace_id: str, category_id: str, changes: CategoryChanges
) -> Category:
    """Renames, describes, translates or moves a category; 409 on a concurrent change or a
    slug another category has in that locale."""
    current = get_category(deps, workspace_id, category_id)
    translations = dict(current.translations)
    for locale, translation in (changes.translations or {}).items():
        if translation is None:
            translations.pop(locale, None)
        else:
            translations[locale] = translation
    changed = replace(
        current,
        name=_name(changes.name) if changes.name is not None else current.name,
        description=changes.description.strip()
        if changes.description is not None
        else current.description,
        position=changes.position if changes.position is not None else current.position,
        translations=_translations(translations),
    )
    if changed == current:
        return current
    if changed.translations != current.translations or changed.name != current.name:
        _refuse_taken_slugs(deps, changed)
    changed = replace(changed, updated_at=deps.clock.now(), revision=current.revision + 1)
    try:
        deps.store.save_category(current, changed)
    except StaleArticle as e:
        raise Conflict("The category changed meanwhile; try again.", code="category_busy") from e
    return changed


def delete_category(deps: KbDeps, workspace_id: str, category_id: str) -> None:
    """Deletes an empty category; 409 while articles belong to it."""
    category = get_category(deps, workspace_id, category_id)
    try:
        deps.store.delete_category(category)
    except CategoryInUse as e:
        raise Conflict(
            "Articles still belong to this category; move or delete them first.",
            code="category_not_empty",
        ) from e
    except StaleArticle as e:
        raise Conflict("The category changed meanwhile; try again.", code="category_busy") from e
