"""Two-factor sign-in (TOTP with recovery codes): enrolling, confirming, turning it off, and
the second step of a login.  Every code check is behind the attempts throttle of the user
(`two-factor:<user>`), a TOTP code is accepted once (its step is recorded), a recovery code
once (its item is deleted, conditionally)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.accounts import two_factor_codes as codes
from chalicelib.accounts.deps import AccountDeps
from chalicelib.accounts.model import Principal, User
from chalicelib.accounts.password_attempts import throttled_check
from chalicelib.accounts.ports import (
    ChallengeUsed,
    CodeUsed,
    TwoFactorChanged,
    TwoFactorSecretUnreadable,
)
from chalicelib.accounts.sessions import (
    LoginResult,
    Session,
    memberships_of,
    open_session,
)
from chalicelib.clock import epoch
from chalicelib.errors import (
    Conflict,
    Forbidden,
    ServiceUnavailable,
    Unauthenticated,
    ValidationFailed,
)
from chalicelib.ids import new_id, token_hash
from chalicelib.mail.outbound import OutboundMail

# Memberships whose copy of "two-factor on" is written with the user (one transaction
# holds the user, 10 recovery codes and these); authentication repairs any beyond.
MEMBERSHIPS_MARKED = 80


@dataclass(frozen=True)
class TwoFactorStatus:
    enabled: bool
    enabled_at: datetime | None
    recovery_codes_left: int
    required_by_workspace: bool


@dataclass(frozen=True)
class Enrolment:
    secret: str  # shown this once, for apps that cannot scan
    otpauth_uri: str
    qr_code: str  # the URI as an SVG data: URI


def person(deps: AccountDeps, principal: Principal) -> User:
    """The signed-in person; 403 `not_a_person` for an API key (it has no profile)."""
    user = deps.store.get_user(principal.user_id) if principal.user_id else None
    if user is None:
        raise Forbidden("Only a person's session can do this, not an API key.", code="not_a_person")
    return user


def _enabled(user: User) -> bool:
    return user.two_factor is not None and user.two_factor.enabled


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "Two-factor sign-in cannot be checked right now; the operators have been told.",
        code="two_factor_unavailable",
    )


def _secret(deps: AccountDeps, user: User, *, pending: bool = False) -> str | None:
    """The user's TOTP secret in clear (or the offered one).  503 `two_factor_unavailable`
    when it does not open (no key, a wrong key, an altered value): never let anyone in."""
    try:
        return deps.store.two_factor_secret(user, pending=pending)
    except TwoFactorSecretUnreadable:
        raise _unavailable() from None


def status(deps: AccountDeps, principal: Principal, user: User) -> TwoFactorStatus:
    enabled = _enabled(user)
    return TwoFactorStatus(
        enabled=enabled,
        enabled_at=user.two_factor.enabled_at if user.two_factor is not None else None,
        recovery_codes_left=deps.store.count_recovery_codes(user.id) if enabled else 0,
        required_by_workspace=principal.two_factor_missing or _required_here(deps, principal),
    )


def _required_here(deps: AccountDeps, principal: Principal) -> bool:
    workspace = deps.store.get_workspace(principal.workspace_id)
    return workspace is not None and workspace.two_factor_required


def start_enrolment(deps: AccountDeps, principal: Principal) -> Enrolment:
    """A new secret to add to an authenticator app (replacing an unconfirmed one); sign-in
    asks for codes only once `confirm_enrolment` has seen one.  409 when already on."""
    user = person(deps, principal)
    if _enabled(user):
        raise Conflict("Two-factor sign-in is on already.", code="two_factor_already_on")
    secret = codes.new_secret()
    try:
        deps.store.offer_two_factor(user, secret)
    except TwoFactorChanged:
        raise Conflict("Two-factor sign-in is on already.", code="two_factor_already_on") from None
    except TwoFactorSecretUnreadable:
        raise _unavailable() from None
    uri = codes.provisioning_uri(secret, user.email)
    return Enrolment(secret=secret, otpauth_uri=uri, qr_code=codes.qr_code_data_uri(uri))


def _last_step(user: User) -> int:
    return user.two_factor.last_step if user.two_factor is not None else 0


def _throttled_step(
    deps: AccountDeps, user: User, secret: str, code: str, after_step: int = 0
) -> int | None:
    """The step of `code` when it is a current code of `secret` newer than `after_step`
    (else None), checked behind the user's attempts throttle."""
    now = epoch(deps.clock.now())
    found: list[int] = []

    def check() -> bool:
        step = codes.matching_step(secret, code, now)
        if step is not None and step > after_step:
            found.append(step)
            return True
        return False

    throttled_check(deps, f"two-factor:{user.id}", check)
    return found[0] if found else None


def _wrong_code() -> ValidationFailed:
    return ValidationFailed(
        "The code is not right: type the 6 digits your authenticator app shows now.",
        code="invalid_two_factor_code",
        details=[{"field": "code", "message": "not the current code"}],
    )


def confirm_enrolment(deps: AccountDeps, principal: Principal, code: str) -> list[str]:
    """Turns two-factor sign-in on with the offered secret, once `code` is its current code,
    and returns 10 recovery codes (shown once; only their hashes are kept).  Writes one
    transaction: the user, the codes, and the copy on the user's memberships."""
    user = person(deps, principal)
    if _enabled(user):
        raise Conflict("Two-factor sign-in is on already.", code="two_factor_already_on")
    pending = _secret(deps, user, pending=True)
    if pending is None:
        raise Conflict(
            "Start with POST /v1/me/two-factor to get a secret.", code="two_factor_not_started"
        )
    step = _throttled_step(deps, user, pending, code)
    if step is None:
        raise _wrong_code()
    recovery = codes.new_recovery_codes()
    memberships = deps.store.list_memberships_of_user(user.id, MEMBERSHIPS_MARKED)
    try:
        deps.store.enable_two_factor(
            user,
            pending,
            step,
            [codes.recovery_code_hash(c) for c in recovery],
            deps.clock.now(),
            memberships,
        )
    except TwoFactorChanged:
        raise Conflict(
            "Two-factor sign-in changed meanwhile; start again.", code="two_factor_changed"
        ) from None
    except TwoFactorSecretUnreadable:
        raise _unavailable() from None
    return recovery


def _prove(deps: AccountDeps, user: User, code: str | None, password: str | None) -> None:
    """A current TOTP code (once), a recovery code (used up) or the password proves it is
    the user; 422 otherwise.  Behind the user's throttle."""
    if not _enabled(user):
        raise Conflict("Two-factor sign-in is off.", code="two_factor_off")
    if password is not None:
        if not throttled_check(
            deps, f"two-factor:{user.id}", lambda: deps.hasher.verify(user.password_hash, password)
        ):
            raise ValidationFailed(
                "The password is not right.",
                code="invalid_password",
                details=[{"field": "password", "message": "not the account's password"}],
            )
        return
    if code is None:
        raise ValidationFailed(
            "Send a current `code` or your `password`.",
            details=[{"field": "code", "message": "a code or the password is required"}],
        )
    secret = _secret(deps, user)
    if secret is None:
        raise Conflict("Two-factor sign-in is off.", code="two_factor_off")
    step = _throttled_step(deps, user, secret, code, _last_step(user))
    if step is None:
        raise _wrong_code()
    try:
        deps.store.accept_two_factor_step(user.id, step)
    except CodeUsed:
        raise _code_used() from None


def _code_used() -> ValidationFailed:
    return ValidationFailed(
        "This code was used already: wait for the next one.",
        code="two_factor_code_used",
        details=[{"field": "code", "message": "used already"}],
    )


def disable(
    deps: AccountDeps, principal: Principal, code: str | None, password: str | None
) -> None:
    """Turns two-factor sign-in off (a current code or the password proves it is the user);
    the unused recovery codes go too.  Refused (409) while the current workspace requires
    it."""
    user = person(deps, principal)
    if _required_here(deps, principal):
        raise Conflict(
            "This workspace requires two-factor sign-in.", code="two_factor_required_here"
        )
    _prove(deps, user, code, password)
    deps.store.disable_two_factor(
        user, deps.store.list_memberships_of_user(user.id, MEMBERSHIPS_MARKED)
    )


def reset_for_member(deps: AccountDeps, principal: Principal, user_id: str) -> User:
    """An owner or admin turns a member's two-factor sign-in off (their authenticator was
    lost): the member signs in with their password alone, and enrols again where a
    workspace requires it.  Only for someone who belongs to this workspace alone (another
    workspace's owners decide for theirs); an admin may not do it for an owner, nor anyone
    for themselves (they have `DELETE /v1/me/two-factor`).  The member is told by e-mail.
    Reads: the member, the user, their memberships (one page); writes: one transaction and
    one mail."""
    from chalicelib.accounts.members import member_under_authority
    from chalicelib.mail.templates import two_factor_reset_mail

    if principal.user_id == user_id:
        raise Conflict(
            "Turn your own two-factor sign-in off from your profile.", code="own_two_factor"
        )
    target = member_under_authority(deps, principal, user_id)
    user = deps.store.get_user(target.user_id)
    if user is None or not _enabled(user):
        raise Conflict("This member does not use two-factor sign-in.", code="two_factor_off")
    memberships = deps.store.list_memberships_of_user(user.id, MEMBERSHIPS_MARKED)
    if any(m.workspace_id != principal.workspace_id for m in memberships):
        raise Conflict(
            "This person also belongs to another workspace: they can turn two-factor sign-in "
            "off from their profile, or an owner of each of their workspaces decides.",
            code="member_of_other_workspaces",
        )
    deps.store.disable_two_factor(user, memberships)
    workspace = deps.store.get_workspace(principal.workspace_id)
    by = deps.store.get_user(principal.user_id) if principal.user_id else None
    rendered = two_factor_reset_mail(
        user.locale or (workspace.locale if workspace else "en"),
        name=user.name,
        by=by.name if by else "",
        workspace=workspace.name if workspace else "",
    )
    deps.outbox.enqueue(
        OutboundMail(
            mail_id=new_id(),
            workspace_id=principal.workspace_id,
            purpose="two_factor_reset",
            from_name="Helptal",
            to=[user.email],
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            tags=["two_factor_reset"],
        )
    )
    return user


def new_recovery_codes(deps: AccountDeps, principal: Principal, code: str) -> list[str]:
    """10 new recovery codes (the unused ones stop working), shown once."""
    user = person(deps, principal)
    _prove(deps, user, code, None)
    recovery = codes.new_recovery_codes()
    deps.store.replace_recovery_codes(
        user, [codes.recovery_code_hash(c) for c in recovery], deps.clock.now()
    )
    return recovery


def complete_login(
    deps: AccountDeps,
    challenge: str,
    code: str | None,
    recovery_code: str | None,
    client: str | None = None,
) -> LoginResult:
    """The second step of a login: the challenge the password step gave and a current code
    (or an unused recovery code) open the session.  401 `invalid_challenge` for a challenge
    unknown, used or expired; 401 `invalid_two_factor_code` for a wrong or replayed code;
    429 once the user's attempts are used up; 503 `two_factor_unavailable` when the stored
    secret does not open (an operator's problem: nobody gets in).  Writes: the attempt
    counter, one transaction (challenge used, code used, session), and, after a key
    rotation, the secret sealed again with the current key."""
    if (code is None) == (recovery_code is None):
        raise ValidationFailed(
            "Send either `code` or `recovery_code`.",
            details=[{"field": "code", "message": "exactly one of code, recovery_code"}],
        )
    found = deps.store.get_login_challenge(token_hash(challenge)) if len(challenge) < 200 else None
    if found is None or found.expires_at <= epoch(deps.clock.now()):
        raise Unauthenticated(
            "The sign-in expired or was used: log in again.", code="invalid_challenge"
        )
    user = deps.store.get_user(found.user_id)
    if user is None or not _enabled(user):
        raise Unauthenticated(
            "The sign-in expired or was used: log in again.", code="invalid_challenge"
        )
    step: int | None = None
    recovery_hash: str | None = None
    if code is not None:
        secret = _secret(deps, user)
        if secret is None:
            raise Unauthenticated(
                "The sign-in expired or was used: log in again.", code="invalid_challenge"
            )
        step = _throttled_step(deps, user, secret, code, _last_step(user))
        ok = step is not None
    else:
        typed = recovery_code or ""
        recovery_hash = codes.recovery_code_hash(typed)
        ok = throttled_check(
            deps,
            f"two-factor:{user.id}",
            lambda: (
                codes.looks_like_recovery_code(typed)
                and deps.store.has_recovery_code(user.id, recovery_hash or "")
            ),
        )
    if not ok:
        raise Unauthenticated("The code is not right.", code="invalid_two_factor_code")
    memberships, workspaces = memberships_of(deps, user)
    workspace_id = (
        found.workspace_id
        if any(m.workspace_id == found.workspace_id for m in memberships)
        else memberships[0].workspace_id
    )
    token, credential = open_session(deps, user.id, workspace_id, client or found.client)
    try:
        deps.store.complete_login_challenge(
            found, credential, step=step, recovery_code_hash=recovery_hash
        )
    except ChallengeUsed:
        raise Unauthenticated(
            "The sign-in expired or was used: log in again.", code="invalid_challenge"
        ) from None
    except CodeUsed:
        raise Unauthenticated(
            "The code is not right, or was used already.", code="invalid_two_factor_code"
        ) from None
    deps.store.refresh_two_factor_secret(user)
    return LoginResult(Session(token, user, workspace_id), memberships, workspaces)
