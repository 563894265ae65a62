"""The ports live chat works with (adapters in chalicelib/store/chat_repo.py; the answer
bot behind `AnswerBot`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.chat.model import ChatSettings, ChatState, LiveMark
from chalicelib.tickets.model import Message


class SettingsExist(Exception):
    """The workspace's settings were created meanwhile."""


class ClientIdTaken(Exception):
    """The widget's message id was used before: `message_id` is the message it named."""

    def __init__(self, message_id: str) -> None:
        super().__init__(message_id)
        self.message_id = message_id


@dataclass(frozen=True)
class PastConversation:
    """An entry of a verified visitor's history."""

    ticket_id: str
    visitor_id: str
    subject: str
    created_at: datetime


class ChatStore(Protocol):
    """Persistence of the widget's settings and conversations' live states.  Every method
    makes a bounded number of calls."""

    def get_settings(self, workspace_id: str) -> ChatSettings | None: ...

    def create_settings(self, workspace_id: str, settings: ChatSettings) -> None:
        """The settings and their public key's lookup, in one transaction; raises
        SettingsExist when the workspace has settings."""

    def save_settings(self, workspace_id: str, settings: ChatSettings) -> None:
        """Overwrites the settings (same public key)."""

    def replace_public_key(
        self, workspace_id: str, before: ChatSettings, after: ChatSettings
    ) -> None:
        """The settings with a new key, its lookup, and the old lookup removed (atomic)."""

    def workspace_of_key(self, public_key: str) -> str | None: ...

    def create_state(self, state: ChatState, history_of: str | None, subject: str) -> None:
        """The conversation's live state (and, for a verified visitor `history_of` user id,
        their history entry)."""

    def get_state(self, workspace_id: str, ticket_id: str) -> ChatState | None: ...

    def mark(
        self, workspace_id: str, ticket_id: str, state_of: str | None = None
    ) -> LiveMark | None:
        """The ticket's revision, status and the live state (one BatchGetItem); None when
        either is missing.  `state_of`: the ticket whose live state to read, when it is not
        `ticket_id` (a merged conversation waits on the ticket it was merged into)."""

    def signal(self, workspace_id: str, ticket_id: str, changes: dict[str, object]) -> None:
        """Sets `changes` on the live state and moves its version (one UpdateItem)."""

    def note_poll(self, workspace_id: str, ticket_id: str, now: int, every: int) -> None:
        """Records that the visitor polled at `now`, unless they did in the last `every`
        seconds (version unchanged: no one waits on it)."""

    def messages_after(
        self, workspace_id: str, ticket_id: str, after: str | None, limit: int
    ) -> list[Message]:
        """The ticket's messages with an id after `after` (all when None), oldest first
        (one Query)."""

    def claim_client_id(
        self, workspace_id: str, ticket_id: str, client_id: str, claim_id: str, now: int
    ) -> None:
        """Claims the widget's `client_id` for the request `claim_id` (its own put retried
        is still its own).  Raises ClientIdTaken with the first message's id when it was
        sent before, or with "" while another request is writing it; a claim whose request
        died without writing is taken over after a while."""

    def bind_client_id(
        self, workspace_id: str, ticket_id: str, client_id: str, message_id: str
    ) -> None:
        """Records the message the claimed `client_id` became (after it was written)."""

    def release_client_id(self, workspace_id: str, ticket_id: str, client_id: str) -> None: ...

    def client_message(self, workspace_id: str, ticket_id: str, client_id: str) -> str | None:
        """The message id the widget's `client_id` was claimed for, if any (one GetItem)."""

    def allow(self, workspace_id: str, counter: str, window: int, limit: int, now: int) -> bool:
        """Counts one use of `counter` in the current `window` (seconds); False (not
        counted) when `limit` were used."""

    def conversations_of(
        self, workspace_id: str, user_id: str, limit: int
    ) -> list[PastConversation]:
        """A verified visitor's conversations, newest first (one Query)."""


class AnswerBot(Protocol):
    """The answer bot as the conversations see it (chalicelib/chat/bot_hooks.py)."""

    def wants_to_answer(self, workspace_id: str) -> bool:
        """Whether the bot answers this workspace's visitors (AI on, chat AI answers on)."""

    def on_visitor_message(self, workspace_id: str, ticket_id: str, message_id: str) -> None: ...

    def on_feedback(
        self, workspace_id: str, ticket_id: str, message_id: str, helped: bool
    ) -> None: ...

    def on_conversation_started(self, workspace_id: str, at: datetime) -> None: ...

    def on_handoff(self, workspace_id: str, ticket_id: str) -> None:
        """The visitor asked for a person (the widget's button), once per conversation."""


class NoAnswerBot:
    """No answer bot: every conversation goes straight to the team (tests and tools that
    run the conversations without the AI teammate)."""

    def wants_to_answer(self, workspace_id: str) -> bool:
        return False

    def on_visitor_message(self, workspace_id: str, ticket_id: str, message_id: str) -> None:
        return None

    def on_feedback(self, workspace_id: str, ticket_id: str, message_id: str, helped: bool) -> None:
        return None

    def on_conversation_started(self, workspace_id: str, at: datetime) -> None:
        return None

    def on_handoff(self, workspace_id: str, ticket_id: str) -> None:
        return None
