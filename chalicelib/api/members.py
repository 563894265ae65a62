"""The team: members, roles and invitations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.accounts.model import MANAGERS
from chalicelib.api.routing import Call, operation
from chalicelib.lazy import lazy_module
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        AcceptIn,
        AcceptOut,
        InvitationIn,
        InvitationOut,
        InvitationsOut,
        MemberOut,
        MemberPatchIn,
        MembersPageOut,
        PageQuery,
    )

# Loaded by the first request that needs them, not when `app` is imported (cold start).
schemas = lazy_module("chalicelib.api.schemas")
invitations = lazy_module("chalicelib.accounts.invitations")
members = lazy_module("chalicelib.accounts.members")
two_factor = lazy_module("chalicelib.accounts.two_factor")
bp = Blueprint(__name__)


@operation(
    bp,
    "GET",
    "/v1/members",
    summary="Members of the workspace (paged)",
    tag="members",
    query="PageQuery",
    response="MembersPageOut",
    errors=(400, 401, 422),
)
def list_members(call: Call) -> MembersPageOut:
    query: PageQuery = call.query
    page = members.list_members(bootstrap.account_deps(), call.member, query.cursor, query.limit)
    return schemas.MembersPageOut(
        members=[schemas.MemberOut.of(m) for m in page.entries], next_cursor=page.next_cursor
    )


@operation(
    bp,
    "PATCH",
    "/v1/members/{user_id}",
    summary="Change a member's role",
    tag="members",
    body="MemberPatchIn",
    response="MemberOut",
    roles=MANAGERS,
    errors=(400, 401, 403, 404, 409, 422),
)
def patch_member(call: Call) -> MemberOut:
    body: MemberPatchIn = call.body
    return schemas.MemberOut.of(
        members.change_role(
            bootstrap.account_deps(), call.member, call.params["user_id"], body.role
        )
    )


@operation(
    bp,
    "DELETE",
    "/v1/members/{user_id}",
    summary="Remove a member (or leave, for your own id); the API keys they hold are revoked "
    "unless an owner transferred them first",
    tag="members",
    status=204,
    errors=(401, 403, 404, 409),
)
def delete_member(call: Call) -> None:
    members.remove_member(bootstrap.account_deps(), call.member, call.params["user_id"])


@operation(
    bp,
    "POST",
    "/v1/members/invitations",
    seats=1,
    summary="Invite someone by e-mail (single-use link, valid 7 days)",
    tag="members",
    body="InvitationIn",
    response="InvitationOut",
    status=201,
    roles=MANAGERS,
    errors=(400, 401, 403, 409, 422),
)
def invite(call: Call) -> InvitationOut:
    body: InvitationIn = call.body
    return schemas.InvitationOut.of(
        invitations.invite(
            bootstrap.account_deps(), call.member, str(body.email), body.role, body.locale
        )
    )


@operation(
    bp,
    "GET",
    "/v1/members/invitations",
    summary="Pending invitations",
    tag="members",
    response="InvitationsOut",
    roles=MANAGERS,
    errors=(401, 403),
)
def list_invitations(call: Call) -> InvitationsOut:
    pending = invitations.list_pending(bootstrap.account_deps(), call.member)
    return schemas.InvitationsOut(invitations=[schemas.InvitationOut.of(i) for i in pending])


@operation(
    bp,
    "DELETE",
    "/v1/members/invitations/{invitation_id}",
    summary="Revoke a pending invitation",
    tag="members",
    status=204,
    roles=MANAGERS,
    errors=(401, 403, 404, 409),
)
def revoke_invitation(call: Call) -> None:
    invitations.revoke(bootstrap.account_deps(), call.member, call.params["invitation_id"])


@operation(
    bp,
    "POST",
    "/v1/invitations/{token}/accept",
    summary="Accept an invitation: join the workspace (creating the account if new)",
    tag="members",
    body="AcceptIn",
    response="AcceptOut",
    auth=False,
    errors=(400, 401, 402, 404, 409, 410, 422, 429),
)
def accept_invitation(call: Call) -> AcceptOut:
    body: AcceptIn = call.body
    accepted = invitations.accept(
        bootstrap.account_deps(), call.params["token"], body.name, body.password
    )
    return schemas.AcceptOut(
        token=accepted.token,
        user=schemas.UserOut.of(accepted.user, accepted.member.role),
        workspace=schemas.WorkspaceOut.of(accepted.workspace, get_settings().inbound_mail_domain),
    )


@operation(
    bp,
    "DELETE",
    "/v1/members/{user_id}/two-factor",
    summary="Turn a member's two-factor sign-in off (their authenticator was lost)",
    description="Owners and admins (an admin not for an owner), for a member who belongs to "
    "this workspace alone; the member is told by e-mail and signs in with their password, "
    "then enrols again where a workspace requires it. 409 `member_of_other_workspaces`, "
    "`two_factor_off`, `own_two_factor` (use `DELETE /v1/me/two-factor`).",
    tag="members",
    status=204,
    roles=MANAGERS,
    errors=(401, 403, 404, 409),
)
def reset_member_two_factor(call: Call) -> None:
    two_factor.reset_for_member(bootstrap.account_deps(), call.member, call.params["user_id"])
