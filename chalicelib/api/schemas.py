"""Request and response schemas of the public API (also the source of the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.accounts.model import ApiKey, Invitation, Member, Role, User, Workspace

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Locale = Literal["en", "fr"]
Password = Annotated[str, Field(min_length=1, max_length=256)]


def _known_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError("unknown time zone; use an IANA name such as Asia/Singapore") from e
    return name


def _email_address(value: str) -> str:
    try:
        # `.test` domains stay usable for demos and staging; deliverability is Mailgun's job.
        checked = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as e:
        raise ValueError(f"not a valid e-mail address ({e})") from e
    return checked.normalized.lower()


EmailStr = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_email_address)]

TimeZone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_known_time_zone)]


class Incoming(BaseModel):
    """Bodies: unknown fields and wrong types are errors, not silently dropped or coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


class QueryParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Outgoing(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- outgoing ------------------------------------------------------------------------------


class WorkspaceOut(Outgoing):
    id: str
    slug: str
    name: str
    timezone: str
    locale: str
    inbound_address: str
    created_at: datetime

    @classmethod
    def of(cls, workspace: Workspace, inbound_domain: str) -> WorkspaceOut:
        return cls(
            id=workspace.id,
            slug=workspace.slug,
            name=workspace.name,
            timezone=workspace.timezone,
            locale=workspace.locale,
            inbound_address=f"{workspace.slug}@{inbound_domain}",
            created_at=workspace.created_at,
        )


class UserOut(Outgoing):
    id: str
    email: str
    name: str
    role: Role | None = None

    @classmethod
    def of(cls, user: User, role: Role | None = None) -> UserOut:
        return cls(id=user.id, email=user.email, name=user.name, role=role)


class MemberOut(Outgoing):
    id: str = Field(description="The member's user id.")
    email: str
    name: str
    role: Role
    joined_at: datetime

    @classmethod
    def of(cls, member: Member) -> MemberOut:
        return cls(
            id=member.user_id,
            email=member.email,
            name=member.name,
            role=member.role,
            joined_at=member.joined_at,
        )


class WorkspaceMembershipOut(Outgoing):
    id: str
    slug: str
    name: str
    role: Role


class SignupOut(Outgoing):
    workspace: WorkspaceOut
    user: UserOut
    token: str


class LoginOut(Outgoing):
    token: str
    user: UserOut
    workspace_id: str = Field(
        description="The workspace this session acts in by default; "
        "send `X-Workspace-Id` to act in another."
    )
    workspaces: list[WorkspaceMembershipOut]


class MeOut(Outgoing):
    user: UserOut | None
    api_key_id: str | None = None
    role: Role
    workspace: WorkspaceOut


class MembersPageOut(Outgoing):
    members: list[MemberOut]
    next_cursor: str | None


class InvitationOut(Outgoing):
    id: str
    email: str
    role: Role
    status: str
    invited_by: str
    created_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, invitation: Invitation) -> InvitationOut:
        from datetime import UTC

        return cls(
            id=invitation.id,
            email=invitation.email,
            role=invitation.role,
            status=invitation.status.value,
            invited_by=invitation.invited_by,
            created_at=invitation.created_at,
            expires_at=datetime.fromtimestamp(invitation.valid_until, UTC),
        )


class InvitationsOut(Outgoing):
    invitations: list[InvitationOut]


class AcceptOut(Outgoing):
    token: str
    user: UserOut
    workspace: WorkspaceOut


class ApiKeyOut(Outgoing):
    id: str
    name: str
    role: Role
    prefix: str = Field(description="The first characters of the key, to recognise it.")
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, api_key: ApiKey) -> ApiKeyOut:
        return cls(
            id=api_key.id,
            name=api_key.name,
            role=api_key.role,
            prefix=api_key.prefix,
            created_by=api_key.created_by,
            created_at=api_key.created_at,
        )


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The secret; shown once. Use it as `Authorization: Bearer`.")


class ApiKeysOut(Outgoing):
    api_keys: list[ApiKeyOut]


class HealthOut(Outgoing):
    status: Literal["ok"]
    table: Literal["reachable"]


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] | None = None


class ErrorOut(BaseModel):
    error: ErrorInfo


# -- incoming ------------------------------------------------------------------------------


class SignupIn(Incoming):
    workspace_name: Name
    name: Name
    email: EmailStr
    password: Password
    slug: str | None = Field(default=None, description="Defaults to one made from the name.")
    locale: Locale = "en"
    timezone: TimeZone = "UTC"


class LoginIn(Incoming):
    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: Password


class WorkspacePatchIn(Incoming):
    name: Name | None = None
    timezone: TimeZone | None = None
    locale: Locale | None = None


class InvitationIn(Incoming):
    email: EmailStr
    role: Role = Role.AGENT
    locale: Locale | None = Field(
        default=None, description="Language of the e-mail; default: workspace's."
    )


class AcceptIn(Incoming):
    name: Name
    password: Password


class JoinForm(QueryParams):
    """The join page's form (strings, as browsers send them)."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""
    password: Password


class MemberPatchIn(Incoming):
    role: Role


class ApiKeyIn(Incoming):
    name: Name
    role: Literal["admin", "agent"] = "agent"


class PageQuery(QueryParams):
    cursor: str | None = Field(default=None, max_length=2048)
    limit: int = Field(default=50, ge=1, le=100)


# -- tickets -------------------------------------------------------------------------------

TicketStatusName = Literal["new", "open", "pending", "on_hold", "solved", "closed"]
PriorityName = Literal["low", "normal", "high", "urgent"]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class RequesterIn(Incoming):
    email: EmailStr
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""


class TicketIn(Incoming):
    requester: RequesterIn
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=250)]
    body: Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
    cc: list[EmailStr] = Field(default_factory=list, max_length=50)
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    priority: PriorityName = "normal"
    status: TicketStatusName = "new"
    assignee_id: str | None = Field(default=None, max_length=26)


class TicketPatchIn(Incoming):
    status: TicketStatusName | None = None
    priority: PriorityName | None = None
    assignee_id: str | None = Field(
        default=None, max_length=26, description="A member's user id; `null` unassigns."
    )
    tags: list[Tag] | None = Field(default=None, max_length=20)
    subject: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=250)]
        | None
    ) = None


class MessageIn(Incoming):
    body: Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
    kind: Literal["reply", "note"] = "reply"
    cc: list[EmailStr] = Field(default_factory=list, max_length=50)
    last_seen_message_id: str | None = Field(
        default=None,
        max_length=26,
        description="The newest message you saw; 409 if the customer wrote since.",
    )


class TicketQuery(QueryParams):
    status: TicketStatusName | None = None
    assignee: str | None = Field(
        default=None, max_length=26, description="`me`, `none` or a user id"
    )
    tag: str | None = Field(default=None, max_length=50)
    requester: str | None = Field(default=None, max_length=26, description="a contact id")
    cursor: str | None = Field(default=None, max_length=4096)
    limit: int = Field(default=25, ge=1, le=100)


class AttachmentOut(Outgoing):
    id: str
    filename: str
    content_type: str
    size: int
    inline: bool
    url: str = Field(description="Members only: redirects to a short-lived download link.")


class MessageOut(Outgoing):
    id: str
    kind: Literal["customer", "reply", "note"]
    author: str
    from_address: str | None
    to: list[str]
    cc: list[str]
    subject: str
    text: str
    html: str | None = Field(description="Sanitised HTML, safe to render.")
    quoted_text: str | None
    attachments: list[AttachmentOut]
    delivery: str
    delivery_detail: str | None
    created_at: datetime


class ActivityOut(Outgoing):
    id: str
    actor: str
    action: str
    before: str | None
    after: str | None
    at: datetime


class TicketOut(Outgoing):
    id: str
    number: int
    subject: str
    requester: dict[str, str]
    cc: list[str]
    status: TicketStatusName
    priority: PriorityName
    assignee_id: str | None
    tags: list[str]
    channel: str
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime
    first_response_at: datetime | None
    solved_at: datetime | None
    message_count: int
    last_customer_message_id: str | None
    merged_into: str | None
    follow_up_of: str | None


class TicketListOut(Outgoing):
    tickets: list[TicketOut]
    next_cursor: str | None


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]
    activity: list[ActivityOut]
