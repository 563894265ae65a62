"""Single-use links e-mailed to a user: confirming the address they signed up with, and
choosing a new password when they forgot theirs.

Only the SHA-256 of a link's token is stored.  A link is used by a POST from the page it
opens (a mail scanner that fetches the URL uses nothing), once: the use deletes it in the
transaction that applies it.  Mail to customers waits for the owner's confirmation
(`Workspace.customer_mail_enabled`), so that a sign-up cannot send as an address it does
not hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.accounts.deps import AccountDeps
from chalicelib.accounts.model import EmailLink, LinkPurpose, Principal, User, Workspace
from chalicelib.accounts.passwords import check_password_policy
from chalicelib.accounts.ports import AttemptsUsedUp, LinkUsed
from chalicelib.accounts.sessions import normalise_email
from chalicelib.clock import epoch
from chalicelib.errors import Conflict, Gone, NotFound, TooManyRequests
from chalicelib.ids import new_id, new_secret_token, token_hash
from chalicelib.mail.outbound import OutboundMail

if TYPE_CHECKING:
    from chalicelib.mail.templates import RenderedMail

LINK_PREFIX = "htl"
CONFIRMATION_LINK_SECONDS = 7 * 24 * 3600
RESET_LINK_SECONDS = 3600  # the mail says "for one hour"
# Mails a user can ask for in an hour (per address or account), so no one floods a mailbox.
LINK_MAILS_PER_HOUR = 3
LINK_MAIL_WINDOW_SECONDS = 3600
# A password reset signs out this many of the user's newest sessions (a transaction holds
# 100 writes); older ones end with their own expiry.
SESSIONS_SIGNED_OUT = 90


@dataclass(frozen=True)
class UsableLink:
    link: EmailLink
    user: User


def confirmation_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/account/confirm/{token}"


def reset_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/account/reset-password/{token}"


def new_link(
    deps: AccountDeps,
    purpose: LinkPurpose,
    user: User,
    *,
    locale: str,
    workspace_id: str | None = None,
) -> tuple[str, EmailLink]:
    """A new link's token (for the mail only) and its record (not yet stored)."""
    token = new_secret_token(LINK_PREFIX)
    now = deps.clock.now()
    lifetime = (
        CONFIRMATION_LINK_SECONDS if purpose is LinkPurpose.CONFIRM_EMAIL else (RESET_LINK_SECONDS)
    )
    return token, EmailLink(
        token_hash=token_hash(token),
        purpose=purpose,
        user_id=user.id,
        email=user.email,
        created_at=now,
        expires_at=epoch(now) + lifetime,
        locale=locale,
        workspace_id=workspace_id,
    )


def _mail(workspace_id: str, user: User, purpose: str, rendered: RenderedMail) -> OutboundMail:
    return OutboundMail(
        mail_id=new_id(),
        workspace_id=workspace_id,
        purpose=purpose,
        from_name="Helptal",
        to=[user.email],
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        tags=[purpose],
    )


def send_confirmation(deps: AccountDeps, user: User, workspace: Workspace, token: str) -> None:
    """Queues the "confirm your address" mail, in the workspace's language."""
    from chalicelib.mail.templates import email_confirmation_mail

    rendered = email_confirmation_mail(
        workspace.locale,
        name=user.name,
        workspace=workspace.name,
        url=confirmation_url(deps.policy.public_base_url, token),
        days=CONFIRMATION_LINK_SECONDS // 86400,
        formality=workspace.formality,
    )
    deps.outbox.enqueue(_mail(workspace.id, user, "email_confirmation", rendered))


def _take_one_mail(deps: AccountDeps, subject: str, *, quiet: bool = False) -> bool:
    """Counts one more link mail for `subject` this hour: False (or 429 unless `quiet`) when
    the hour's are used up."""
    try:
        deps.store.reserve_password_attempt(
            subject, epoch(deps.clock.now()), LINK_MAIL_WINDOW_SECONDS, LINK_MAILS_PER_HOUR
        )
    except AttemptsUsedUp as e:
        if quiet:
            return False
        raise TooManyRequests(
            "We sent this e-mail several times in the last hour; check your inbox and spam "
            "folder, or try again later.",
            code="too_many_mails",
            retry_after_seconds=e.retry_after_seconds,
        ) from None
    return True


def resend_confirmation(deps: AccountDeps, principal: Principal) -> str:
    """A new confirmation link for the caller (earlier ones keep working until they expire),
    at most 3 an hour (429).  409 when the address is confirmed and the workspace mails its
    customers already.  Returns the address it was sent to."""
    user = deps.store.get_user(principal.user_id) if principal.user_id else None
    if user is None:
        raise Conflict("Only a person's session has an address to confirm.", code="not_a_user")
    workspace = deps.store.get_workspace(principal.workspace_id)
    if workspace is None:
        raise NotFound("No such workspace.", code="workspace_not_found")
    if user.email_confirmed_at is not None and workspace.customer_mail_enabled:
        raise Conflict("Your e-mail address is confirmed already.", code="already_confirmed")
    _take_one_mail(deps, f"confirm-mail:{user.id}")
    # The workspace waiting for it is the one its owner created; a member's own address
    # confirms only the member.
    waiting = workspace.id if not workspace.customer_mail_enabled else None
    token, link = new_link(
        deps, LinkPurpose.CONFIRM_EMAIL, user, locale=workspace.locale, workspace_id=waiting
    )
    deps.store.put_email_link(link)
    send_confirmation(deps, user, workspace, token)
    return user.email


def usable_link(deps: AccountDeps, token: str, purpose: LinkPurpose) -> UsableLink:
    """The link behind `token` if it can still be used: 404 `link_not_found` (unknown, used,
    or for another purpose), 410 `link_expired`."""
    link = deps.store.get_email_link(token_hash(token)) if token.startswith("htl_") else None
    if link is None or link.purpose is not purpose:
        raise NotFound("This link is not valid, or was used already.", code="link_not_found")
    if link.expires_at <= epoch(deps.clock.now()):
        raise Gone("This link has expired; ask for a new one.", code="link_expired")
    user = deps.store.get_user(link.user_id)
    if user is None or normalise_email(user.email) != normalise_email(link.email):
        raise NotFound("This link is not valid, or was used already.", code="link_not_found")
    return UsableLink(link, user)


def confirm_email(deps: AccountDeps, token: str) -> UsableLink:
    """Confirms the address the link was sent to (and opens mail to customers for the
    workspace its owner created).  Writes: one transaction."""
    found = usable_link(deps, token, LinkPurpose.CONFIRM_EMAIL)
    try:
        deps.store.confirm_email(found.link, deps.clock.now())
    except LinkUsed:
        raise NotFound(
            "This link is not valid, or was used already.", code="link_not_found"
        ) from None
    return found


def request_password_reset(deps: AccountDeps, email: str, locale: str) -> None:
    """Mails a reset link when `email` has an account; answers the same either way, and
    sends at most 3 an hour per address (beyond: silently none, so the answer tells
    nothing).  Writes: the address's counter; with an account, the link and one mail."""
    address = normalise_email(email)
    if not _take_one_mail(deps, f"reset-mail:{address}", quiet=True):
        return
    user = deps.store.find_user_by_email(address)
    if user is None:
        return
    locale = user.locale or locale  # the language the person chose in their profile wins
    from chalicelib.mail.templates import password_reset_mail

    token, link = new_link(deps, LinkPurpose.RESET_PASSWORD, user, locale=locale)
    deps.store.put_email_link(link)
    memberships = deps.store.list_memberships_of_user(user.id, 1)
    filed_under = memberships[0].workspace_id if memberships else user.id
    rendered = password_reset_mail(
        locale,
        name=user.name,
        url=reset_url(deps.policy.public_base_url, token),
    )
    deps.outbox.enqueue(_mail(filed_under, user, "password_reset", rendered))


def reset_password(deps: AccountDeps, token: str, password: str) -> UsableLink:
    """Sets the new password (422 `weak_password` as at sign-up), signs out the user's
    sessions and uses the link.  The address is proven by the link: it counts as confirmed.
    Reads: the link, the user, one page of sessions; writes: one transaction."""
    found = usable_link(deps, token, LinkPurpose.RESET_PASSWORD)
    check_password_policy(password, found.user.email)
    sessions = deps.store.list_sessions_of_user(found.user.id, SESSIONS_SIGNED_OUT)
    try:
        deps.store.reset_password(
            found.link,
            deps.hasher.hash(password),
            deps.clock.now(),
            [s.token_hash for s in sessions],
        )
    except LinkUsed:
        raise NotFound(
            "This link is not valid, or was used already.", code="link_not_found"
        ) from None
    return found
