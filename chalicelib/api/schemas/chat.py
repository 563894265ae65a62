"""Schemas of live chat: the widget's settings (members), the visitor API (the widget) and
the agent's live view of a chat ticket."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from chalicelib.api.schemas.common import EmailStr, Incoming, Outgoing, QueryParams
from chalicelib.api.schemas.tickets import MessageOut

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
FieldRuleName = Literal["off", "optional", "required"]
ClientId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
MessageId = Annotated[str, Field(min_length=26, max_length=26, pattern=r"^[0-9A-Z]{26}$")]
PageUrl = Annotated[str, Field(max_length=2000)]
LocalTime = Annotated[str, Field(max_length=40)]
BrowserLanguage = Annotated[str, Field(max_length=35)]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty")
    return value


VisitorText = Annotated[str, Field(min_length=1, max_length=4000), AfterValidator(_not_blank)]


class OpeningSpanIO(Incoming):
    start: str = Field(description="`HH:MM`, in the workspace's time zone.", max_length=5)
    end: str = Field(description="`HH:MM` (`24:00` for midnight), after `start`.", max_length=5)


class OfficeHoursIn(Incoming):
    weekly: dict[Weekday, list[OpeningSpanIO]] | None = None
    always_open: bool | None = None


class OpeningSpanOut(Outgoing):
    start: str
    end: str


class OfficeHoursOut(Outgoing):
    time_zone: str = Field(description="The workspace's time zone (changed in its settings).")
    weekly: dict[str, list[OpeningSpanOut]]
    always_open: bool


class PreChatFieldsIO(Incoming):
    name: FieldRuleName = "off"
    email: FieldRuleName = "optional"


class PreChatFieldsOut(Outgoing):
    name: FieldRuleName
    email: FieldRuleName


class IdentityVerificationIn(Incoming):
    required: bool


class IdentityVerificationOut(Outgoing):
    required: bool
    secret_set: bool


class GreetingIO(Incoming):
    en: str | None = Field(default=None, max_length=300)
    fr: str | None = Field(default=None, max_length=300)


class ChatSettingsIn(Incoming):
    enabled: bool | None = None
    colour: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")
    position: Literal["right", "left"] | None = None
    greeting: GreetingIO | None = None
    team_name: str | None = Field(default=None, max_length=80)
    team_photo_url: str | None = Field(
        default=None, max_length=500, description="An https:// image; empty string removes it."
    )
    office_hours: OfficeHoursIn | None = None
    allowed_origins: list[Annotated[str, Field(max_length=300)]] | None = Field(
        default=None, max_length=20
    )
    pre_chat_fields: PreChatFieldsIO | None = None
    ai_answers: bool | None = None
    identity_verification: IdentityVerificationIn | None = None


class GreetingOut(Outgoing):
    en: str
    fr: str


class ChatSettingsOut(Outgoing):
    enabled: bool
    public_key: str
    snippet: str = Field(description="The script tag to paste in the site's pages.")
    colour: str
    position: Literal["right", "left"]
    greeting: GreetingOut
    team_name: str
    team_photo_url: str | None
    office_hours: OfficeHoursOut
    allowed_origins: list[str]
    pre_chat_fields: PreChatFieldsOut
    ai_answers: bool
    ai_answers_effective: bool = Field(
        description="Whether the answer bot answers now: chat AI answers on and AI on for "
        "the workspace."
    )
    identity_verification: IdentityVerificationOut


class IdentitySecretOut(Outgoing):
    identity_secret: str = Field(
        description="Shown once: the site's server computes "
        "`user_hash = hex(HMAC-SHA256(identity_secret, user_id))`."
    )


# -- the visitor API ----------------------------------------------------------------------


class ChatConfigQuery(QueryParams):
    locale: str | None = Field(default=None, max_length=35)


class ChatConfigOut(Outgoing):
    public_key: str
    locale: Literal["en", "fr"]
    colour: str
    position: Literal["right", "left"]
    greeting: str
    team_name: str
    team_photo_url: str | None
    online: bool = Field(description="Within office hours now (outside: ask for an e-mail).")
    pre_chat_fields: PreChatFieldsOut
    ai_answers: bool
    turnstile_site_key: str | None
    identity_required: bool
    live_url: str | None = Field(
        default=None,
        description="The WebSocket API for pushes (connect with `?visitor_token=&public_key=`"
        " once a conversation started); null where there is none: poll.",
    )


class VisitorIdentityIn(Incoming):
    user_id: str = Field(min_length=1, max_length=200)
    email: EmailStr
    name: str | None = Field(default=None, max_length=120)
    user_hash: str = Field(min_length=1, max_length=128)


class ChatStartIn(Incoming):
    message: VisitorText
    name: str | None = Field(default=None, max_length=120)
    email: EmailStr | None = None
    page_url: PageUrl | None = None
    language: BrowserLanguage | None = None
    local_time: LocalTime | None = None
    client_id: ClientId | None = None
    turnstile_token: str | None = Field(default=None, max_length=4096)
    identity: VisitorIdentityIn | None = None


class ChatAgentOut(Outgoing):
    name: str
    avatar_url: str | None


class ConversationOut(Outgoing):
    id: str
    status: str
    online: bool
    agent: ChatAgentOut | None = Field(description="The assigned agent, once there is one.")
    rating: Literal["good", "bad"] | None
    email_known: bool
    ended: bool
    handed_off: bool = Field(
        description="The team has the conversation (the visitor asked for a person, or the "
        "answer bot handed it off): a person answers here."
    )
    created_at: datetime


class ChatCitationOut(Outgoing):
    number: int
    title: str
    url: str


class VisitorAttachmentOut(Outgoing):
    id: str
    filename: str = Field(description="As the sender named it: show it as text.")
    content_type: str
    size: int
    url: str = Field(
        description="The file, through the visitor API (a redirect to a link valid 5 "
        "minutes); signed for this visitor, it needs no token and works for a day, so an "
        "image can show it."
    )


class VisitorMessageOut(Outgoing):
    id: str
    author: Literal["visitor", "agent", "bot"]
    author_name: str = Field(description="The agent's name; the team's name for the bot.")
    text: str = Field(description="Plain text: show it as text, never as HTML.")
    created_at: datetime
    client_id: str | None = None
    citations: list[ChatCitationOut]
    attachments: list[VisitorAttachmentOut]


class ChatStartOut(Outgoing):
    conversation: ConversationOut
    visitor_token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    messages: list[VisitorMessageOut]
    cursor: str | None


class ChatHistoryIn(Incoming):
    identity: VisitorIdentityIn


class ChatHistoryEntryOut(Outgoing):
    id: str
    subject: str
    created_at: datetime
    visitor_token: str


class ChatHistoryOut(Outgoing):
    conversations: list[ChatHistoryEntryOut]


UploadId = Annotated[str, Field(min_length=26, max_length=26, pattern=r"^[0-9A-Z]{26}$")]


class ChatMessageIn(Incoming):
    text: Annotated[str, Field(max_length=4000)] = ""
    client_id: ClientId | None = None
    page_url: PageUrl | None = None
    local_time: LocalTime | None = None
    attachment_ids: list[UploadId] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _text_or_files(self) -> ChatMessageIn:
        if not self.text.strip() and not self.attachment_ids:
            raise ValueError("write a text or attach a file")
        return self


class ChatAttachmentIn(Incoming):
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(min_length=1, max_length=100)
    size: int = Field(ge=1)


class ChatAttachmentQuery(QueryParams):
    visitor: str | None = Field(default=None, max_length=40, pattern=r"^[0-9A-Z]+$")
    expires: int | None = Field(default=None, ge=0)
    signature: str | None = Field(default=None, max_length=64, pattern=r"^[0-9a-f]+$")


class ChatMessagesQuery(QueryParams):
    after: MessageId | None = None
    wait: int = Field(default=0, ge=0, le=20)
    version: int | None = Field(default=None, ge=0)


class ChatMessagesOut(Outgoing):
    messages: list[VisitorMessageOut]
    cursor: str | None
    agent_typing: bool
    agent_seen_message_id: str | None
    status: str
    handed_off: bool = Field(description="The team has the conversation: a person answers here.")
    version: int


class ChatTypingIn(Incoming):
    typing: bool


class ChatSeenIn(Incoming):
    message_id: MessageId


class ChatRatingIn(Incoming):
    rating: Literal["good", "bad"]
    comment: str | None = Field(default=None, max_length=1000)


class ChatEmailIn(Incoming):
    email: EmailStr
    name: str | None = Field(default=None, max_length=120)


class ChatFeedbackIn(Incoming):
    message_id: MessageId
    helped: bool


class ChatEndIn(Incoming):
    transcript: bool = False


# -- the agent's live view ------------------------------------------------------------------


class TicketLiveQuery(QueryParams):
    after: MessageId | None = None
    wait: int = Field(default=0, ge=0, le=20)
    version: int | None = Field(default=None, ge=0)


class TicketLiveOut(Outgoing):
    messages: list[MessageOut]
    cursor: str | None
    visitor_typing: bool
    visitor_seen_message_id: str | None
    visitor_online: bool
    status: str
    version: int


class TicketTypingIn(Incoming):
    typing: bool


class TicketSeenIn(Incoming):
    message_id: MessageId
