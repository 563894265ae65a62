"""Signing up: a new workspace with its first owner."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.accounts import email_links
from chalicelib.accounts.deps import AccountDeps
from chalicelib.accounts.model import LinkPurpose, Member, Role, User, Workspace
from chalicelib.accounts.passwords import check_password_policy
from chalicelib.accounts.ports import AttemptsUsedUp, EmailTaken, SlugTaken
from chalicelib.accounts.sessions import normalise_email, open_session
from chalicelib.accounts.slugs import is_valid_slug, slugify, with_suffix
from chalicelib.clock import epoch
from chalicelib.errors import Conflict, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.mail.outbound import OutboundMail
from chalicelib.mail.templates import signup_with_existing_account_mail

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
    login_url: str,
    slug: str | None = None,
    locale: str = "en",
    timezone: str = "UTC",
) -> SignupResult:
    """Creates workspace, owner account, membership, a session and the link that confirms
    the owner's address in one transaction, then queues the mail with that link (mail to
    customers waits for it: see email_links).

    A requested slug must be free (409 otherwise); a derived one gets a short suffix when
    taken.  An e-mail that already has an account gets an answer of the same shape and cost
    (the password is hashed either way), but nothing is created and its token opens nothing:
    the owner of the address is told by e-mail instead (queued, at most one an hour), so the
    answer never tells who has an account."""
    address = normalise_email(email)
    check_password_policy(password, address)
    if slug is not None and not is_valid_slug(slug):
        raise ValidationFailed(
            "slug must be 3-40 lowercase letters, digits or single hyphens, and not reserved",
            code="invalid_slug",
            details=[{"field": "slug", "message": "invalid slug"}],
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
    existing = deps.store.find_user_by_email(address)
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
        confirmation_token, confirmation = email_links.new_link(
            deps, LinkPurpose.CONFIRM_EMAIL, user, locale=locale, workspace_id=workspace.id
        )
        try:
            if existing is not None:
                if deps.store.find_workspace_by_slug(candidate) is not None:
                    raise SlugTaken()
                _tell_the_account_owner(deps, existing, workspace, login_url)
            else:
                deps.store.create_workspace(workspace, user, True, owner, session, confirmation)
                email_links.send_confirmation(deps, user, workspace, confirmation_token)
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
            # Signed up a moment ago by someone else: answered as for any existing account.
            existing = deps.store.find_user_by_email(address)
            if existing is not None:
                _tell_the_account_owner(deps, existing, workspace, login_url)
        return SignupResult(workspace=workspace, owner=owner, user=user, token=token)
    raise AssertionError("unreachable")


SIGNUP_NOTICES_PER_HOUR = 1


def _tell_the_account_owner(
    deps: AccountDeps, existing: User, attempted: Workspace, login_url: str
) -> None:
    """Queues the "someone tried to sign up with your address" e-mail, at most one an hour
    per address (so sign-ups cannot flood a mailbox).

    Writes: a counter for the address; the outbound mail record; one SQS message."""
    now = epoch(deps.clock.now())
    try:
        deps.store.reserve_password_attempt(
            f"signup-notice:{existing.email}", now, 3600, SIGNUP_NOTICES_PER_HOUR
        )
    except AttemptsUsedUp:
        return
    memberships = deps.store.list_memberships_of_user(existing.id, 1)
    # Filed under a workspace of the account, as every outbound mail is.
    filed_under = memberships[0].workspace_id if memberships else existing.id
    rendered = signup_with_existing_account_mail(
        attempted.locale, workspace=attempted.name, login_url=login_url
    )
    deps.outbox.enqueue(
        OutboundMail(
            mail_id=new_id(),
            workspace_id=filed_under,
            purpose="signup_with_existing_account",
            from_name="Helptal",
            to=[existing.email],
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            tags=["signup_with_existing_account"],
        )
    )
