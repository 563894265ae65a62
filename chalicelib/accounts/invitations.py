"""Inviting teammates by e-mail, and accepting an invitation."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.accounts.deps import AccountDeps
from chalicelib.accounts.model import (
    Invitation,
    InvitationStatus,
    Member,
    Principal,
    Role,
    User,
    Workspace,
)
from chalicelib.accounts.password_attempts import verify_password
from chalicelib.accounts.passwords import check_password_policy
from chalicelib.accounts.ports import (
    AlreadyMember,
    EmailTaken,
    InvitationNoLongerPending,
    SeatsExhausted,
)
from chalicelib.accounts.sessions import normalise_email, open_session
from chalicelib.billing.plans import FREE, PLANS, Plan, plan_named
from chalicelib.clock import epoch
from chalicelib.errors import Conflict, Forbidden, Gone, NotFound, PlanLimit, Unauthenticated
from chalicelib.ids import new_id, new_secret_token, token_hash
from chalicelib.mail.outbound import OutboundMail
from chalicelib.mail.templates import invitation_mail

INVITATION_PREFIX = "hti"
MAX_PENDING_LISTED = 200


def accept_url(deps: AccountDeps, token: str) -> str:
    # The join page is served by this API (chalicelib/api/join.py), not the web client.
    return f"{deps.policy.public_base_url.rstrip('/')}/join/{token}"


def invite(
    deps: AccountDeps, principal: Principal, email: str, role: Role, locale: str | None = None
) -> Invitation:
    """Records a pending invitation and queues its e-mail (single-use link, 7 days).

    Writes: the invitation + its token lookup; the outbound mail record; one SQS message."""
    if not principal.role.can_manage_members:
        raise Forbidden("Only owners and admins can invite members.", code="forbidden_role")
    if role is Role.OWNER and principal.role is not Role.OWNER:
        raise Forbidden("Only an owner can invite another owner.", code="owner_required")
    address = normalise_email(email)
    existing = deps.store.find_user_by_email(address)
    if existing and deps.store.get_member(principal.workspace_id, existing.id):
        raise Conflict("This person is already a member of the workspace.", code="already_member")
    workspace = deps.store.get_workspace(principal.workspace_id)
    if workspace is None:
        raise NotFound("No such workspace.", code="workspace_not_found")
    inviter = _inviter_name(deps, principal, workspace)
    token = new_secret_token(INVITATION_PREFIX)
    now = deps.clock.now()
    invitation = Invitation(
        id=new_id(),
        workspace_id=workspace.id,
        email=address,
        role=role,
        status=InvitationStatus.PENDING,
        token_hash=token_hash(token),
        invited_by=principal.actor,
        created_at=now,
        valid_until=epoch(now) + deps.policy.invitation_ttl_seconds,
        # The inviter's choice, else the workspace's: the join page follows it too.
        locale=locale or workspace.locale,
    )
    deps.store.create_invitation(invitation)
    rendered = invitation_mail(
        invitation.locale or workspace.locale,
        inviter=inviter,
        workspace=workspace.name,
        role=role.value,
        accept_url=accept_url(deps, token),
        days=max(1, round(deps.policy.invitation_ttl_seconds / 86400)),
        formality=workspace.formality,
    )
    deps.outbox.enqueue(
        OutboundMail(
            mail_id=new_id(),
            workspace_id=workspace.id,
            purpose="invitation",
            from_name=workspace.name,
            to=[address],
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            tags=["invitation"],
        )
    )
    return invitation


def _inviter_name(deps: AccountDeps, principal: Principal, workspace: Workspace) -> str:
    if principal.user_id:
        member = deps.store.get_member(workspace.id, principal.user_id)
        if member:
            return member.name
    return workspace.name


def list_pending(deps: AccountDeps, principal: Principal) -> list[Invitation]:
    if not principal.role.can_manage_members:
        raise Forbidden("Only owners and admins can see invitations.", code="forbidden_role")
    return deps.store.list_pending_invitations(principal.workspace_id, MAX_PENDING_LISTED)


def revoke(deps: AccountDeps, principal: Principal, invitation_id: str) -> None:
    if not principal.role.can_manage_members:
        raise Forbidden("Only owners and admins can revoke invitations.", code="forbidden_role")
    invitation = deps.store.get_invitation(principal.workspace_id, invitation_id)
    if invitation is None:
        raise NotFound("No such invitation.", code="invitation_not_found")
    try:
        deps.store.revoke_invitation(invitation)
    except InvitationNoLongerPending:
        raise Conflict(
            "This invitation was already used or revoked.", code="invitation_not_pending"
        ) from None


@dataclass(frozen=True)
class Acceptance:
    token: str
    user: User
    member: Member
    workspace: Workspace


def _usable_invitation(deps: AccountDeps, token: str) -> Invitation:
    invitation = (
        deps.store.find_invitation_by_token(token_hash(token))
        if token.startswith(INVITATION_PREFIX + "_") and len(token) < 200
        else None
    )
    if invitation is None:
        raise NotFound("This invitation link is not valid.", code="invitation_not_found")
    if invitation.status is InvitationStatus.ACCEPTED:
        raise Gone("This invitation was already used.", code="invitation_used")
    if invitation.status is InvitationStatus.REVOKED:
        raise Gone("This invitation was revoked.", code="invitation_revoked")
    if invitation.valid_until <= epoch(deps.clock.now()):
        raise Gone("This invitation has expired; ask for a new one.", code="invitation_expired")
    return invitation


@dataclass(frozen=True)
class InvitationPreview:
    invitation: Invitation
    workspace: Workspace
    existing_account: bool


def preview(deps: AccountDeps, token: str) -> InvitationPreview:
    """What the join page shows before accepting (reads only)."""
    invitation = _usable_invitation(deps, token)
    workspace = deps.store.get_workspace(invitation.workspace_id)
    if workspace is None:
        raise NotFound("This invitation link is not valid.", code="invitation_not_found")
    existing = deps.store.find_user_by_email(invitation.email) is not None
    return InvitationPreview(invitation, workspace, existing)


def accept(deps: AccountDeps, token: str, name: str, password: str) -> Acceptance:
    """Joins the workspace: creates the account (or, for an e-mail that has one, checks its
    password), the membership and a session, atomically; the link then stops working."""
    invitation = _usable_invitation(deps, token)
    workspace = deps.store.get_workspace(invitation.workspace_id)
    if workspace is None:
        raise NotFound("This invitation link is not valid.", code="invitation_not_found")
    now = deps.clock.now()
    user = deps.store.find_user_by_email(invitation.email)
    user_is_new = user is None
    if user is None:
        check_password_policy(password, invitation.email)
        user = User(
            id=new_id(),
            email=invitation.email,
            name=name.strip(),
            password_hash=deps.hasher.hash(password),
            created_at=now,
            email_confirmed_at=now,  # the invitation reached this address
        )
    elif not verify_password(deps, invitation.email, user, password):
        raise Unauthenticated(
            "This e-mail already has an account: enter its password.", code="invalid_credentials"
        )
    member = Member(
        workspace_id=workspace.id,
        user_id=user.id,
        role=invitation.role,
        email=user.email,
        name=user.name,
        joined_at=now,
    )
    session_token, session = open_session(deps, user.id, workspace.id)
    try:
        deps.store.accept_invitation(invitation, user, user_is_new, member, session, epoch(now))
    except InvitationNoLongerPending:
        # Lost a race with another accept (or it expired this instant): say what it is now.
        _usable_invitation(deps, token)
        raise Gone("This invitation was already used.", code="invitation_used") from None
    except AlreadyMember:
        raise Conflict(
            "You are already a member of this workspace.", code="already_member"
        ) from None
    except EmailTaken:
        raise Conflict(
            "An account with this e-mail was just created; log in and accept again.",
            code="email_taken",
        ) from None
    except SeatsExhausted as e:
        raise _no_seat(e) from None
    return Acceptance(token=session_token, user=user, member=member, workspace=workspace)


def _no_seat(refused: SeatsExhausted) -> PlanLimit:
    """402 plan_limit (reason "seats"), with what would let one more person join: more
    seats on the plan paid for, or a plan that takes that many."""
    wanted = refused.used + 1
    # An ended trial is the free plan until billing moves the account on.
    plan = FREE if refused.trial_ended else plan_named(refused.plan_id)
    status = "active" if refused.trial_ended else refused.status
    subscribed = plan is not None and plan.paid and status not in ("trialing", "canceled")

    def takes(candidate: Plan) -> bool:
        return candidate.max_seats is None or wanted <= candidate.max_seats

    allowed_by: list[dict[str, object]] = []
    if subscribed and plan is not None and takes(plan):
        allowed_by.append({"seats": wanted})
    allowed_by += [
        {"plan": candidate.id, "seats": wanted}
        for candidate in sorted(PLANS.values(), key=lambda p: p.rank)
        if candidate.paid
        and takes(candidate)
        and not (subscribed and plan is not None and candidate.rank <= plan.rank)
    ]
    return PlanLimit(
        "This workspace's trial has ended: an owner needs to choose a plan before anyone joins."
        if refused.trial_ended
        else "Every seat of this workspace is taken: an owner needs to add a seat first.",
        details={
            "reason": "seats",
            "plan": plan.id if plan is not None else refused.plan_id,
            "status": status,
            "seats": {
                "used": refused.used,
                "limit": FREE.max_seats if refused.trial_ended else refused.paid,
            },
            "allowed_by": allowed_by,
        },
    )
