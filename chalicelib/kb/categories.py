"""Knowledge-base categories: a name, a description and a position that orders them."""

from __future__ import annotations

from dataclasses import dataclass, replace

from chalicelib.accounts.model import Principal
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.kb.deps import KbDeps
from chalicelib.kb.model import Category
from chalicelib.kb.ports import CategoryInUse, StaleArticle

MAX_CATEGORIES = 200


@dataclass(frozen=True)
class CategoryDraft:
    name: str
    description: str = ""
    position: int = 0


def _name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationFailed(
            "A category needs a name.", details=[{"field": "name", "message": "required"}]
        )
    return cleaned


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
    )
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


def update_category(
    deps: KbDeps, workspace_id: str, category_id: str, changes: CategoryChanges
) -> Category:
    """Renames, describes or moves a category; 409 on a concurrent change."""
    current = get_category(deps, workspace_id, category_id)
    changed = replace(
        current,
        name=_name(changes.name) if changes.name is not None else current.name,
        description=changes.description.strip()
        if changes.description is not None
        else current.description,
        position=changes.position if changes.position is not None else current.position,
    )
    if changed == current:
        return current
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
