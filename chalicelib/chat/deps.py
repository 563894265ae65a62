"""The ports and policy values live chat works with (built in bootstrap.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from chalicelib.chat.ports import AnswerBot, ChatStore
from chalicelib.chat.shared_marks import SharedMarkReads
from chalicelib.kb.helpcentre_contact import ContactAttempts, HumanCheck
from chalicelib.live.connections import NoLivePush
from chalicelib.live.ports import LivePush
from chalicelib.tickets.deps import TicketDeps


@dataclass(frozen=True)
class ChatPolicy:
    token_secret: str  # the deployment's reply-address secret: visitor tokens derive from it
    public_base_url: str
    conversations_per_ip_hour: int = 10
    messages_per_visitor_minute: int = 30
    max_message_chars: int = 4000
    poll_interval_seconds: float = 0.25
    max_wait_seconds: int = 20
    typing_seconds: int = 6  # a typing signal lasts this long unless repeated
    online_seconds: int = 30  # a visitor who polled this recently is online
    poll_note_every_seconds: int = 10
    reply_unseen_delay_seconds: int = 60
    uploads_per_visitor_window: int = 20  # files a visitor may start uploading in 10 minutes
    attachment_link_seconds: int = 24 * 3600  # how long the widget's file links work


@dataclass(frozen=True)
class ChatDeps:
    store: ChatStore
    tickets: TicketDeps
    attempts: ContactAttempts  # conversations per IP and hour (the contact form's counter)
    human_check: HumanCheck | None
    bot: AnswerBot
    policy: ChatPolicy
    ai_enabled: Callable[[str], bool]  # whether a workspace has AI on
    sleep: Callable[[float], None]
    # Tells the conversation's WebSocket listeners of a signal (best effort; none locally).
    live: LivePush = field(default_factory=NoLivePush)
    # The process's waiting clients read their marks together (None: each alone).
    marks: SharedMarkReads | None = None
