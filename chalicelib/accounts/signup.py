"""Signing up: a new workspace with its first owner."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.accounts.deps import AccountDeps
from chalicelib.accounts.model import Member, Role, User, Workspace
from chalicelib.accounts.passwords import check_password_policy
from chalicelib.accounts.ports import EmailTaken, SlugTaken
from chalicelib.accounts.sessions import normalise_email, open_session
from chalicelib.accounts.slugs import is_valid_slug, slugify, with_suffix
from chalicelib.errors import Conflict, ValidationFailed
from chalicelib.ids import new_id

SLUG_ATTEMPTS = 3


@dataclass(frozen=True)
class SignupResult:
    workspace: Workspace
    owner: Member
    user: User
    token: str


def sign_up(
    deps: AccountDeps,
    *,
    workspace_name: str,
    name: str,
    email: str,
    password: str,
    slug: str | None = None,
    locale: str = "en",
    timezone: str = "UTC",
) -> SignupResult:
    """Creates workspace, owner account, membership and a session in one transaction.

    A requested slug must be free (409 otherwise); a derived one gets a short suffix when
    taken.  An e-mail that already has an account is 409 (log in instead)."""
    address = normalise_email(email)
    check_password_policy(password, address)
    if slug is not None and not is_valid_slug(slug):
        raise ValidationFailed(
            "slug must be 3-40 lowercase letters, digits or single hyphens, and not reserved",
            code="invalid_slug",
            details=[{"field": "slug", "message": "invalid slug"}],
        )
    if deps.store.find_user_by_email(address) is not None:
        raise Conflict(
            "An account with this e-mail exists; log in to create a workspace.", code="email_taken"
        )
    now = deps.clock.now()
    user = User(
        id=new_id(),
        email=address,
        name=name.strip(),
        password_hash=deps.hasher.hash(password),
        created_at=now,
    )
    candidate = slug or slugify(workspace_name)
    if not is_valid_slug(candidate):
        candidate = with_suffix(candidate)
    for attempt in range(SLUG_ATTEMPTS):
        workspace = Workspace(
            id=new_id(),
            slug=candidate,
            name=workspace_name.strip(),
            timezone=timezone,
            locale=locale,
            owner_count=1,
            created_at=now,
            updated_at=now,
        )
        owner = Member(
            workspace_id=workspace.id,
            user_id=user.id,
            role=Role.OWNER,
            email=user.email,
            name=user.name,
            joined_at=now,
        )
        token, session = open_session(deps, user.id, workspace.id)
        try:
            deps.store.create_workspace(workspace, user, True, owner, session)
        except SlugTaken:
            if slug is not None:
                raise Conflict(
                    f"The address '{slug}' is taken; choose another.", code="slug_taken"
                ) from None
            if attempt == SLUG_ATTEMPTS - 1:
                raise Conflict(
                    "Could not find a free address for this workspace name; choose a slug.",
                    code="slug_taken",
                ) from None
            candidate = with_suffix(slugify(workspace_name))
            continue
        except EmailTaken:
            raise Conflict(
                "An account with this e-mail exists; log in to create a workspace.",
                code="email_taken",
            ) from None
        return SignupResult(workspace=workspace, owner=owner, user=user, token=token)
    raise AssertionError("unreachable")
