"""Schemas shared by every capability, and those of accounts, members and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.accounts.model import ApiKey, Invitation, Member, Role, User, Workspace

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Locale = Literal["en", "fr"]
Formality = Literal["formal", "informal"]
Password = Annotated[str, Field(min_length=1, max_length=256)]


def _known_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    # OSError: a name of the zone database's folders or files that is no zone ("America").
    except (ZoneInfoNotFoundError, ValueError, OSError) as e:
        raise ValueError("unknown time zone; use an IANA name such as Asia/Singapore") from e
    return name


def _email_address(value: str) -> str:
    # Imported on first use: its patterns cost a request that validates no address.
    from email_validator import EmailNotValidError, validate_email

    try:
        # `.test` domains stay usable for demos and staging; deliverability is Mailgun's job.
        checked = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as e:
        raise ValueError(f"not a valid e-mail address ({e})") from e
    return checked.normalized.lower()


EmailStr = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_email_address)]

TimeZone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_known_time_zone)]


def utf8_at_most(max_bytes: int) -> AfterValidator:
    """A text limit in UTF-8 bytes, what DynamoDB counts (a Japanese character is 3 bytes,
    an emoji 4), so that no accepted text can overflow the item it is stored in."""

    def check(value: str) -> str:
        size = len(value.encode("utf-8"))
        if size > max_bytes:
            raise ValueError(
                f"is {size} bytes in UTF-8; at most {max_bytes} bytes "
                "(a Japanese character counts 3, an emoji 4)"
            )
        return value

    return AfterValidator(check)


# Every schema builds its validator on first use (`defer_build`), not at import: a request
# pays for the few schemas it uses, not for every schema of its capability (cold start).


class Incoming(BaseModel):
    """Bodies: unknown fields and wrong types are errors, not silently dropped or coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class QueryParams(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Outgoing(BaseModel):
    model_config = ConfigDict(from_attributes=True, defer_build=True)


# -- outgoing ------------------------------------------------------------------------------


class WorkspaceOut(Outgoing):
    id: str
    slug: str
    name: str
    timezone: str
    locale: str
    formality: Formality
    inbound_address: str
    customer_mail_enabled: bool
    two_factor_required: bool
    created_at: datetime

    @classmethod
    def of(cls, workspace: Workspace, inbound_domain: str) -> WorkspaceOut:
        return cls(
            id=workspace.id,
            slug=workspace.slug,
            name=workspace.name,
            timezone=workspace.timezone,
            locale=workspace.locale,
            formality="informal" if workspace.formality == "informal" else "formal",
            inbound_address=f"{workspace.slug}@{inbound_domain}",
            customer_mail_enabled=workspace.customer_mail_enabled,
            two_factor_required=workspace.two_factor_required,
            created_at=workspace.created_at,
        )


class UserOut(Outgoing):
    """A person as every answer shows them: with their role in the workspace the answer is
    about (the session's workspace)."""

    id: str
    email: str
    name: str
    role: Role
    email_confirmed: bool

    @classmethod
    def of(cls, user: User, role: Role) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            role=role,
            email_confirmed=user.email_confirmed_at is not None,
        )


class MemberOut(Outgoing):
    id: str = Field(description="The member's user id.")
    email: str
    name: str
    role: Role
    joined_at: datetime
    two_factor: bool = Field(
        default=False, description="Whether the member signs in with a second factor."
    )

    @classmethod
    def of(cls, member: Member) -> MemberOut:
        return cls(
            id=member.user_id,
            email=member.email,
            name=member.name,
            role=member.role,
            joined_at=member.joined_at,
            two_factor=member.two_factor,
        )


class WorkspaceMembershipOut(Outgoing):
    id: str
    slug: str
    name: str
    role: Role


class SignupOut(Outgoing):
    """The new workspace, its owner and a session.  For an e-mail that already has an account
    the answer looks the same, but nothing was created and the token opens nothing (401): the
    owner of the address is told by e-mail to log in instead.  Clients should say "if you
    already have an account, check your e-mail" when the token is refused."""

    workspace: WorkspaceOut
    user: UserOut
    token: str | None


class LoginOut(Outgoing):
    """A session, or (`two_factor_required: true`) a challenge to complete with a code at
    `POST /v1/auth/login/two-factor`: then `token`, `user` and `workspace_id` are null and
    `workspaces` is empty."""

    two_factor_required: bool = False
    challenge: str | None = None
    challenge_expires_at: datetime | None = None
    token: str | None
    user: UserOut | None
    workspace_id: str | None = Field(
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
    created_by: str = Field(description="Who created it: `user:<id>` or `api_key:<id>`.")
    created_at: datetime
    member_id: str | None = Field(
        description="The member holding the key: it works while they are a member and is "
        "revoked when they are removed, unless an owner transfers it "
        "(`POST /v1/api-keys/{id}/transfer`)."
    )
    last_used_at: datetime | None = Field(
        description="When the key was last used (recorded at most once a minute)."
    )

    @classmethod
    def of(cls, api_key: ApiKey) -> ApiKeyOut:
        return cls(
            id=api_key.id,
            name=api_key.name,
            role=api_key.role,
            prefix=api_key.prefix,
            created_by=api_key.created_by,
            created_at=api_key.created_at,
            member_id=api_key.member_id,
            last_used_at=api_key.last_used_at,
        )


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The secret; shown once. Use it as `Authorization: Bearer`.")


class ApiKeysOut(Outgoing):
    api_keys: list[ApiKeyOut]


class HealthOut(Outgoing):
    status: Literal["ok"]
    table: Literal["reachable"]


class ErrorDetail(BaseModel):
    model_config = ConfigDict(defer_build=True)

    field: str
    message: str


class ErrorInfo(BaseModel):
    model_config = ConfigDict(defer_build=True)

    code: str
    message: str
    details: list[ErrorDetail] | None = None


class ErrorOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

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
    formality: Formality | None = None
    two_factor_required: bool | None = None


class InvitationIn(Incoming):
    email: EmailStr
    role: Role = Role.AGENT
    locale: Locale | None = Field(
        default=None, description="Language of the e-mail; default: workspace's."
    )


class AcceptIn(Incoming):
    name: Name
    password: Password


class JoinPageQuery(QueryParams):
    """What the join page reads of its query (documented; the page ignores the rest)."""

    lang: str | None = None


class JoinForm(QueryParams):
    """The join page's form (strings, as browsers send them)."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""
    password: Password


class AccountPageQuery(QueryParams):
    """What the e-mailed link pages read of their query (the rest is ignored)."""

    lang: str | None = None


class NewPasswordForm(QueryParams):
    """The new-password page's form."""

    password: Password


class PasswordResetIn(Incoming):
    email: Annotated[str, Field(min_length=1, max_length=320)]
    locale: Locale = "en"


class ConfirmationSentOut(Outgoing):
    sent_to: str


class MemberPatchIn(Incoming):
    role: Role


class ApiKeyIn(Incoming):
    name: Name
    role: Literal["admin", "agent"] = "agent"


class ApiKeyTransferIn(Incoming):
    member_id: str = Field(
        min_length=1, max_length=64, description="The user id of the member to hold the key."
    )


class PageQuery(QueryParams):
    cursor: str | None = Field(default=None, max_length=2048)
    limit: int = Field(default=50, ge=1, le=100)


class CitationOut(Outgoing):
    """An article an answer cites (an AI draft's or the chat answer bot's)."""

    number: int = Field(description="The [n] used in the body.")
    article_id: str
    title: str
    url: str
