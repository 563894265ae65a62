"""Live chat in DynamoDB: the widget's settings, the public key's lookup, each
conversation's live state, the widget's message ids, rate counters and verified visitors'
history.

| access pattern                               | served by                                     |
|----------------------------------------------|-----------------------------------------------|
| a workspace's widget settings                | GetItem PK=WS#<ws>, SK=CHAT#SETTINGS          |
| workspace of a public key (visitor requests) | GetItem PK=CHATKEY#<public key>, SK=LOOKUP    |
| a conversation's live state                  | GetItem PK=WS#<ws>#T#<ticket>, SK=CHAT        |
| a conversation's mark (waiting for news)     | BatchGetItem the ticket (SK=TICKET) + CHAT    |
| messages after a cursor                      | Query PK=WS#<ws>#T#<ticket>, SK > MSG#<id>    |
| a widget's message id (resend = same message)| PK=WS#<ws>#T#<ticket>, SK=CLIENTID#<sha256>   |
| visitor / IP counters (rate limits)          | UpdateItem ADD PK=WS#<ws>, SK=CHATRATE#<hash> |
| a verified visitor's conversations           | Query PK=WS#<ws>#CHATUSER#<sha256(user)>, desc|
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError

from chalicelib.chat.model import (
    ChatSettings,
    ChatState,
    FieldRule,
    LiveMark,
    OfficeHours,
    OpeningSpan,
    Position,
    PreChatFields,
    Rating,
)
from chalicelib.chat.ports import ClientIdTaken, PastConversation, SettingsExist
from chalicelib.store import keys
from chalicelib.store.models import Item, MessageItem, TicketItem
from chalicelib.store.tickets_repo import _message as message_of_item
from chalicelib.store.transactions import transaction
from chalicelib.tickets.model import Message

CLIENT_ID_DAYS = 30


class ChatSettingsItem(Item, discriminator="chat_settings"):
    public_key = UnicodeAttribute()
    settings = UnicodeAttribute()  # JSON of ChatSettings (the identity secret included)


class ChatKeyLookup(Item, discriminator="chat_key"):
    workspace_id = UnicodeAttribute()


class ChatStateItem(Item, discriminator="chat_state"):
    workspace_id = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    visitor_id = UnicodeAttribute()
    language = UnicodeAttribute(default="en")
    user_id = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)
    agent_typing_until = NumberAttribute(default=0)
    visitor_typing_until = NumberAttribute(default=0)
    agent_seen_message_id = UnicodeAttribute(null=True)
    visitor_seen_message_id = UnicodeAttribute(null=True)
    visitor_polled_at = NumberAttribute(default=0)
    rating = UnicodeAttribute(null=True)
    rating_comment = UnicodeAttribute(null=True)
    handed_off = BooleanAttribute(default=False)
    ended = BooleanAttribute(default=False)
    bot_unhelpful = NumberAttribute(default=0)


# A claim whose message was never written (its request died) is taken over after this.
ABANDONED_CLAIM_SECONDS = 120


class ChatClientIdItem(Item, discriminator="chat_client_id"):
    # The message it became; None while the request that claimed it is writing it.
    message_item_id = UnicodeAttribute(null=True)
    claim_id = UnicodeAttribute(null=True)  # the claiming request's own id
    claimed_at = NumberAttribute(null=True)


class ChatRateItem(Item, discriminator="chat_rate"):
    uses = NumberAttribute(default=0)


class ChatHistoryItem(Item, discriminator="chat_history"):
    ticket_id = UnicodeAttribute()
    visitor_id = UnicodeAttribute()
    subject = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


SETTINGS_SK = "CHAT#SETTINGS"
STATE_SK = "CHAT"
CLIENT_ID_PREFIX = "CLIENTID#"
RATE_PREFIX = "CHATRATE#"
HISTORY_PREFIX = "CONV#"
_STATE_FIELDS = {
    "agent_typing_until",
    "visitor_typing_until",
    "agent_seen_message_id",
    "visitor_seen_message_id",
    "rating",
    "rating_comment",
    "handed_off",
    "ended",
    "bot_unhelpful",
    "language",
}


def _key_pk(public_key: str) -> str:
    return f"CHATKEY#{public_key}"


def _history_pk(workspace_id: str, user_id: str) -> str:
    return f"WS#{workspace_id}#CHATUSER#" + hashlib.sha256(user_id.encode()).hexdigest()[:40]


def _hashed(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:40]


def settings_json(settings: ChatSettings) -> str:
    data = asdict(settings)
    data["allowed_origins"] = list(settings.allowed_origins)
    return json.dumps(data, separators=(",", ":"))


def settings_from_json(raw: str) -> ChatSettings:
    data: dict[str, Any] = json.loads(raw)
    hours = data.get("office_hours") or {}
    fields = data.get("pre_chat_fields") or {}
    return ChatSettings(
        public_key=data["public_key"],
        enabled=bool(data.get("enabled", False)),
        colour=data.get("colour", "#0b7a75"),
        position=Position(data.get("position", "right")),
        greeting=dict(data.get("greeting") or {}),
        team_name=data.get("team_name", ""),
        team_photo_url=data.get("team_photo_url"),
        office_hours=OfficeHours(
            weekly={
                day: [OpeningSpan(**span) for span in spans]
                for day, spans in (hours.get("weekly") or {}).items()
            },
            always_open=bool(hours.get("always_open", True)),
        ),
        allowed_origins=tuple(data.get("allowed_origins") or ()),
        pre_chat_fields=PreChatFields(
            name=FieldRule(fields.get("name", "off")),
            email=FieldRule(fields.get("email", "optional")),
        ),
        ai_answers=bool(data.get("ai_answers", False)),
        identity_required=bool(data.get("identity_required", False)),
        identity_secret=data.get("identity_secret"),
    )


def _state(item: ChatStateItem) -> ChatState:
    return ChatState(
        workspace_id=item.workspace_id,
        ticket_id=item.ticket_id,
        visitor_id=item.visitor_id,
        language=item.language or "en",
        user_id=item.user_id,
        version=int(item.version or 0),
        agent_typing_until=int(item.agent_typing_until or 0),
        visitor_typing_until=int(item.visitor_typing_until or 0),
        agent_seen_message_id=item.agent_seen_message_id,
        visitor_seen_message_id=item.visitor_seen_message_id,
        visitor_polled_at=int(item.visitor_polled_at or 0),
        rating=Rating(item.rating) if item.rating else None,
        rating_comment=item.rating_comment,
        handed_off=bool(item.handed_off),
        ended=bool(item.ended),
        bot_unhelpful=int(item.bot_unhelpful or 0),
    )


class DynamoChatStore:
    def _settings_item(self, workspace_id: str, settings: ChatSettings) -> ChatSettingsItem:
        return ChatSettingsItem(
            keys.workspace_pk(workspace_id),
            SETTINGS_SK,
            public_key=settings.public_key,
            settings=settings_json(settings),
        )

    def get_settings(self, workspace_id: str) -> ChatSettings | None:
        try:
            item = ChatSettingsItem.get(keys.workspace_pk(workspace_id), SETTINGS_SK)
        except ChatSettingsItem.DoesNotExist:
            return None
        return settings_from_json(item.settings)

    def create_settings(self, workspace_id: str, settings: ChatSettings) -> None:
        try:
            with transaction() as tx:
                tx.save(
                    self._settings_item(workspace_id, settings),
                    condition=Item.pk.does_not_exist(),
                )
                tx.save(
                    ChatKeyLookup(
                        _key_pk(settings.public_key), keys.LOOKUP_SK, workspace_id=workspace_id
                    ),
                    condition=Item.pk.does_not_exist(),
                )
        except TransactWriteError as e:
            raise SettingsExist() from e

    def save_settings(self, workspace_id: str, settings: ChatSettings) -> None:
        self._settings_item(workspace_id, settings).save()

    def replace_public_key(
        self, workspace_id: str, before: ChatSettings, after: ChatSettings
    ) -> None:
        with transaction() as tx:
            tx.save(
                self._settings_item(workspace_id, after),
                condition=ChatSettingsItem.public_key == before.public_key,
            )
            tx.save(
                ChatKeyLookup(_key_pk(after.public_key), keys.LOOKUP_SK, workspace_id=workspace_id),
                condition=Item.pk.does_not_exist(),
            )
            tx.delete(ChatKeyLookup(_key_pk(before.public_key), keys.LOOKUP_SK))

    def workspace_of_key(self, public_key: str) -> str | None:
        try:
            return str(ChatKeyLookup.get(_key_pk(public_key), keys.LOOKUP_SK).workspace_id)
        except ChatKeyLookup.DoesNotExist:
            return None

    def create_state(self, state: ChatState, history_of: str | None, subject: str) -> None:
        item = ChatStateItem(
            keys.ticket_pk(state.workspace_id, state.ticket_id),
            STATE_SK,
            workspace_id=state.workspace_id,
            ticket_id=state.ticket_id,
            visitor_id=state.visitor_id,
            language=state.language,
            user_id=state.user_id,
            version=0,
        )
        if history_of is None:
            item.save()
            return
        with transaction() as tx:
            tx.save(item)
            tx.save(
                ChatHistoryItem(
                    _history_pk(state.workspace_id, history_of),
                    HISTORY_PREFIX + state.ticket_id,
                    ticket_id=state.ticket_id,
                    visitor_id=state.visitor_id,
                    subject=subject,
                    created_at=datetime.now(UTC),
                )
            )

    def get_state(self, workspace_id: str, ticket_id: str) -> ChatState | None:
        try:
            return _state(ChatStateItem.get(keys.ticket_pk(workspace_id, ticket_id), STATE_SK))
        except ChatStateItem.DoesNotExist:
            return None

    def mark(
        self, workspace_id: str, ticket_id: str, state_of: str | None = None
    ) -> LiveMark | None:
        return self.marks([(workspace_id, ticket_id, state_of)])[
            (workspace_id, ticket_id, state_of)
        ]

    def marks(
        self, wanted: list[tuple[str, str, str | None]]
    ) -> dict[tuple[str, str, str | None], LiveMark | None]:
        """The marks of up to 50 conversations (one BatchGetItem: each one's ticket and live
        state; None for a conversation that is not there)."""
        tickets: dict[str, TicketItem] = {}
        states: dict[str, ChatStateItem] = {}
        wanted_keys = {
            (pk, sk)
            for workspace_id, ticket_id, state_of in wanted
            for pk, sk in (
                (keys.ticket_pk(workspace_id, ticket_id), keys.TICKET_SK),
                (keys.ticket_pk(workspace_id, state_of or ticket_id), STATE_SK),
            )
        }
        for item in Item.batch_get(sorted(wanted_keys)):
            if isinstance(item, TicketItem):
                tickets[item.pk] = item
            elif isinstance(item, ChatStateItem):
                states[item.pk] = item
        found: dict[tuple[str, str, str | None], LiveMark | None] = {}
        for workspace_id, ticket_id, state_of in wanted:
            ticket = tickets.get(keys.ticket_pk(workspace_id, ticket_id))
            state = states.get(keys.ticket_pk(workspace_id, state_of or ticket_id))
            found[(workspace_id, ticket_id, state_of)] = (
                LiveMark(
                    version=int(ticket.revision or 0) + int(state.version or 0),
                    state=_state(state),
                    ticket_status=ticket.status,
                    merged_into=ticket.merged_into or None,
                )
                if ticket is not None and state is not None
                else None
            )
        return found

    def signal(self, workspace_id: str, ticket_id: str, changes: dict[str, object]) -> None:
        unknown = set(changes) - _STATE_FIELDS
        if unknown:
            raise ValueError(f"not live-state fields: {sorted(unknown)}")
        item = ChatStateItem(keys.ticket_pk(workspace_id, ticket_id), STATE_SK)
        actions: list[Any] = [ChatStateItem.version.add(1)]
        for name, value in changes.items():
            attribute = getattr(ChatStateItem, name)
            actions.append(attribute.remove() if value is None else attribute.set(value))
        item.update(actions=actions, condition=Item.pk.exists())

    def note_poll(self, workspace_id: str, ticket_id: str, now: int, every: int) -> None:
        item = ChatStateItem(keys.ticket_pk(workspace_id, ticket_id), STATE_SK)
        try:
            item.update(
                actions=[ChatStateItem.visitor_polled_at.set(now)],
                condition=Item.pk.exists()
                & (
                    ChatStateItem.visitor_polled_at.does_not_exist()
                    | (ChatStateItem.visitor_polled_at < now - every)
                ),
            )
        except UpdateError as e:
            if e.cause_response_code != "ConditionalCheckFailedException":
                raise

    def messages_after(
        self, workspace_id: str, ticket_id: str, after: str | None, limit: int
    ) -> list[Message]:
        pk = keys.ticket_pk(workspace_id, ticket_id)
        condition = (
            MessageItem.sk.between(keys.message_sk(after) + "\x00", keys.MESSAGE_PREFIX + "\uffff")
            if after
            else MessageItem.sk.startswith(keys.MESSAGE_PREFIX)
        )
        return [message_of_item(item) for item in MessageItem.query(pk, condition, limit=limit)]

    def _client_id_item(
        self, workspace_id: str, ticket_id: str, client_id: str
    ) -> ChatClientIdItem:
        return ChatClientIdItem(
            keys.ticket_pk(workspace_id, ticket_id), CLIENT_ID_PREFIX + _hashed(client_id)
        )

    def claim_client_id(
        self, workspace_id: str, ticket_id: str, client_id: str, claim_id: str, now: int
    ) -> None:
        item = self._client_id_item(workspace_id, ticket_id, client_id)
        item.claim_id = claim_id
        item.claimed_at = now
        item.expires_at = now + CLIENT_ID_DAYS * 86400
        try:
            item.save(condition=Item.pk.does_not_exist())
            return
        except PutError as e:
            if e.cause_response_code != "ConditionalCheckFailedException":
                raise
        found = self._client_id(workspace_id, ticket_id, client_id)
        if found is None or found.claim_id == claim_id:
            return  # our own put, retried by the SDK after a lost answer (or gone meanwhile)
        if found.message_item_id:
            raise ClientIdTaken(str(found.message_item_id))
        if (found.claimed_at or 0) > now - ABANDONED_CLAIM_SECONDS:
            raise ClientIdTaken("")  # being written by another request
        # The request that claimed it ended without writing (a crash): this one takes over.
        try:
            item.save(condition=ChatClientIdItem.claim_id == found.claim_id)
        except PutError as e:
            if e.cause_response_code != "ConditionalCheckFailedException":
                raise
            raise ClientIdTaken("") from e

    def bind_client_id(
        self, workspace_id: str, ticket_id: str, client_id: str, message_id: str
    ) -> None:
        self._client_id_item(workspace_id, ticket_id, client_id).update(
            actions=[ChatClientIdItem.message_item_id.set(message_id)]
        )

    def release_client_id(self, workspace_id: str, ticket_id: str, client_id: str) -> None:
        self._client_id_item(workspace_id, ticket_id, client_id).delete()

    def _client_id(
        self, workspace_id: str, ticket_id: str, client_id: str
    ) -> ChatClientIdItem | None:
        item = self._client_id_item(workspace_id, ticket_id, client_id)
        try:
            return ChatClientIdItem.get(item.pk, item.sk, consistent_read=True)
        except ChatClientIdItem.DoesNotExist:
            return None

    def client_message(self, workspace_id: str, ticket_id: str, client_id: str) -> str | None:
        found = self._client_id(workspace_id, ticket_id, client_id)
        return str(found.message_item_id) if found and found.message_item_id else None

    def allow(self, workspace_id: str, counter: str, window: int, limit: int, now: int) -> bool:
        slot = now // window
        item = ChatRateItem(
            keys.workspace_pk(workspace_id), RATE_PREFIX + _hashed(f"{counter}:{window}:{slot}")
        )
        try:
            item.update(
                actions=[
                    ChatRateItem.uses.add(1),
                    ChatRateItem.kind.set(ChatRateItem),
                    ChatRateItem.expires_at.set((slot + 1) * window + 60),
                ],
                condition=ChatRateItem.uses.does_not_exist() | (ChatRateItem.uses < limit),
            )
        except UpdateError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def conversations_of(
        self, workspace_id: str, user_id: str, limit: int
    ) -> list[PastConversation]:
        return [
            PastConversation(
                ticket_id=item.ticket_id,
                visitor_id=item.visitor_id,
                subject=item.subject,
                created_at=item.created_at,
            )
            for item in ChatHistoryItem.query(
                _history_pk(workspace_id, user_id),
                ChatHistoryItem.sk.startswith(HISTORY_PREFIX),
                scan_index_forward=False,
                limit=limit,
            )
        ]
