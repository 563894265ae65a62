"""Live chat's rules, without AWS: visitor tokens, identity hashes, office hours, allowed
origins, settings changes, and what a long poll costs."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest

from chalicelib.chat import visitor_tokens
from chalicelib.chat.deps import ChatDeps, ChatPolicy
from chalicelib.chat.identity import IdentityNotVerified, user_hash, verified_identity
from chalicelib.chat.live import wait_for_news
from chalicelib.chat.model import ChatSettings, ChatState, LiveMark, OpeningSpan
from chalicelib.chat.office_hours import checked_hours, is_open
from chalicelib.chat.settings import (
    SettingsChange,
    change_settings,
    checked_origins,
    looks_like_public_key,
    new_public_key,
    normalise_origin,
    snippet,
)
from chalicelib.chat.visitor_tokens import VisitorGrant
from chalicelib.errors import ValidationFailed
from chalicelib.mail.delivery import deliver
from chalicelib.mail.outbound import MailStatus, OutboundMail
from chalicelib.tickets.model import DeliveryStatus, Message, MessageKind

SECRET = "reply-address-secret"


# -- visitor tokens ----------------------------------------------------------------------------


def test_a_visitor_token_names_its_workspace_conversation_and_visitor():
    grant = VisitorGrant("WS1", "T1", "V1")
    assert visitor_tokens.read(SECRET, visitor_tokens.issue(SECRET, grant)) == grant


def test_a_visitor_token_signed_with_another_key_or_altered_is_refused():
    token = visitor_tokens.issue(SECRET, VisitorGrant("WS1", "T1", "V1"))
    assert visitor_tokens.read("another deployment", token) is None
    _, signature = token.split(".")
    forged = visitor_tokens.issue("guess", VisitorGrant("WS1", "T2", "V1")).split(".")[0]
    assert visitor_tokens.read(SECRET, f"{forged}.{signature}") is None
    for junk in ("", "abc", "a.b.c", "!!!.???", token + "x"):
        assert visitor_tokens.read(SECRET, junk) is None


# -- identity verification ---------------------------------------------------------------------


def test_the_site_s_hmac_of_the_user_id_verifies_the_identity():
    secret = "cis_workspace-secret"
    expected = hmac.new(secret.encode(), b"u-42", hashlib.sha256).hexdigest()
    assert user_hash(secret, "u-42") == expected
    identity = verified_identity(secret, "u-42", "Carol@Example.com", "Carol", expected.upper())
    assert identity.user_id == "u-42" and identity.email == "carol@example.com"


@pytest.mark.parametrize(
    ("secret", "user_id", "given"),
    [
        ("cis_s", "u-42", user_hash("cis_s", "u-43")),  # another user's hash
        ("cis_s", "u-42", user_hash("cis_other", "u-42")),  # another secret
        ("cis_s", "u-42", ""),
        (None, "u-42", user_hash("cis_s", "u-42")),  # no secret created yet
    ],
)
def test_a_forged_identity_is_refused(secret, user_id, given):
    with pytest.raises(IdentityNotVerified):
        verified_identity(secret, user_id, "a@b.example", "", given)


# -- office hours ------------------------------------------------------------------------------


NINE_TO_FIVE = checked_hours({"mon": [OpeningSpan("09:00", "17:00")]}, always_open=False)


def test_office_hours_are_read_in_the_workspace_time_zone_across_daylight_saving():
    # Paris is UTC+2 in summer and UTC+1 in winter: 09:30 local is 07:30 then 08:30 UTC.
    summer_monday = datetime(2026, 6, 1, 7, 30, tzinfo=UTC)
    winter_monday = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)
    assert is_open(NINE_TO_FIVE, "Europe/Paris", summer_monday)
    assert is_open(NINE_TO_FIVE, "Europe/Paris", winter_monday)
    assert not is_open(NINE_TO_FIVE, "Europe/Paris", datetime(2026, 11, 30, 7, 30, tzinfo=UTC))
    # The Monday the clocks went back (Sunday 25 Oct 2026): 16:30 local is 15:30 UTC.
    assert is_open(NINE_TO_FIVE, "Europe/Paris", datetime(2026, 10, 26, 15, 30, tzinfo=UTC))
    assert not is_open(NINE_TO_FIVE, "Europe/Paris", datetime(2026, 10, 26, 16, 30, tzinfo=UTC))


def test_a_day_without_spans_is_closed_and_always_open_ignores_the_spans():
    sunday = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert not is_open(NINE_TO_FIVE, "UTC", sunday)
    assert is_open(replace(NINE_TO_FIVE, always_open=True), "UTC", sunday)


@pytest.mark.parametrize(
    "weekly",
    [
        {"mon": [OpeningSpan("17:00", "09:00")]},
        {"mon": [OpeningSpan("9:00", "17:00")]},
        {"mon": [OpeningSpan("09:00", "12:00"), OpeningSpan("11:00", "14:00")]},
        {"someday": [OpeningSpan("09:00", "17:00")]},
    ],
)
def test_office_hours_that_make_no_sense_are_refused(weekly):
    with pytest.raises(ValidationFailed):
        checked_hours(weekly, always_open=False)


# -- allowed origins ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("https://WWW.Acme.example/", "https://www.acme.example"),
        ("https://acme.example:443", "https://acme.example"),
        ("https://acme.example:8443", "https://acme.example:8443"),
        ("http://localhost:8010", "http://localhost:8010"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://acme.example", None),  # plain http only for local pages
        ("https://acme.example/pricing", None),
        ("https://user@acme.example", None),
        ("javascript:alert(1)", None),
        ("https://acme.example?x=1", None),
        ("*", None),
    ],
)
def test_allowed_origins_are_normalised_or_refused(given, normalised):
    assert normalise_origin(given) == normalised


def test_at_most_twenty_origins_without_duplicates():
    assert checked_origins(["https://a.example", "https://A.example/"]) == ("https://a.example",)
    with pytest.raises(ValidationFailed):
        checked_origins([f"https://s{n}.example" for n in range(21)])


def test_public_keys_and_the_snippet():
    key = new_public_key()
    assert looks_like_public_key(key) and len(key) == 25
    assert not looks_like_public_key("pk_short") and not looks_like_public_key("x" * 25)
    assert snippet("https://helptal.example/", key) == (
        f'<script src="https://helptal.example/chat/widget.js" data-workspace="{key}" '
        "async></script>"
    )


# -- settings changes (in-memory store) --------------------------------------------------------


class MemoryChatStore:
    """The chat store's settings and live state in memory, counting reads."""

    def __init__(self) -> None:
        self.settings: dict[str, ChatSettings] = {}
        self.state: ChatState | None = None
        self.revision = 0
        self.messages: list[Message] = []
        self.calls: list[str] = []

    def get_settings(self, workspace_id: str) -> ChatSettings | None:
        return self.settings.get(workspace_id)

    def create_settings(self, workspace_id: str, settings: ChatSettings) -> None:
        self.settings[workspace_id] = settings

    def save_settings(self, workspace_id: str, settings: ChatSettings) -> None:
        self.settings[workspace_id] = settings

    def mark(
        self, workspace_id: str, ticket_id: str, state_of: str | None = None
    ) -> LiveMark | None:
        self.calls.append("BatchGetItem")
        assert self.state is not None
        return LiveMark(self.revision + self.state.version, self.state, "open")

    def note_poll(self, workspace_id: str, ticket_id: str, now: int, every: int) -> None:
        pass

    def messages_after(
        self, workspace_id: str, ticket_id: str, after: str | None, limit: int
    ) -> list[Message]:
        self.calls.append("Query")
        return [m for m in self.messages if after is None or m.id > after][:limit]


class ManualClock:
    def now(self) -> datetime:
        return datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _deps(
    store: MemoryChatStore, sleep: Any = lambda seconds: None, ai_on: bool = False
) -> ChatDeps:
    return ChatDeps(
        store=cast(Any, store),
        tickets=cast(Any, SimpleNamespace(clock=ManualClock())),
        attempts=cast(Any, None),
        human_check=None,
        bot=cast(Any, None),
        policy=ChatPolicy(token_secret=SECRET, public_base_url="https://helptal.example"),
        ai_enabled=lambda workspace_id: ai_on,
        sleep=sleep,
    )


def test_ai_answers_can_be_turned_on_only_while_the_workspace_has_ai():
    store = MemoryChatStore()
    with pytest.raises(ValidationFailed) as refused:
        change_settings(_deps(store), "WS1", SettingsChange(ai_answers=True))
    assert refused.value.code == "ai_not_enabled"
    assert not store.settings["WS1"].ai_answers
    on = _deps(store, ai_on=True)
    assert change_settings(on, "WS1", SettingsChange(ai_answers=True)).ai_answers


def test_an_invalid_change_changes_nothing():
    store = MemoryChatStore()
    deps = _deps(store)
    change_settings(deps, "WS1", SettingsChange(enabled=True))
    before = store.settings["WS1"]
    with pytest.raises(ValidationFailed):
        change_settings(
            deps,
            "WS1",
            SettingsChange(enabled=False, allowed_origins=["ftp://acme.example"]),
        )
    assert store.settings["WS1"] == before
    with pytest.raises(ValidationFailed):
        change_settings(deps, "WS1", SettingsChange(team_photo_url="http://x.example/a.png"))


# -- long polling ------------------------------------------------------------------------------


def _message(number: int, kind: MessageKind = MessageKind.CUSTOMER) -> Message:
    return Message(
        id=f"01JD3Y7R2W5V8H3J6K9M4{number:05d}",
        ticket_id="T1",
        workspace_id="WS1",
        kind=kind,
        author="contact:C1",
        from_address=None,
        to=[],
        cc=[],
        subject="s",
        text=f"message {number}",
        html=None,
        quoted_text=None,
        message_id=None,
        in_reply_to=[],
        references=[],
        attachments=[],
        delivery=DeliveryStatus.RECEIVED,
        created_at=datetime(2026, 11, 30, tzinfo=UTC),
    )


@pytest.mark.parametrize("length", [3, 300])
def test_a_long_poll_with_nothing_new_costs_one_read_per_interval_and_one_query(length):
    store = MemoryChatStore()
    store.state = ChatState(workspace_id="WS1", ticket_id="T1", visitor_id="V1")
    store.messages = [_message(n) for n in range(length)]
    news = wait_for_news(
        _deps(store),
        "WS1",
        "T1",
        after=store.messages[-1].id,
        known_version=0,
        wait_seconds=2,
        for_visitor=True,
    )
    assert news.messages == []
    assert store.calls.count("Query") == 1
    assert store.calls.count("BatchGetItem") == 1 + 2 / 0.25


def test_a_long_poll_answers_as_soon_as_the_version_moves_and_never_shows_notes():
    store = MemoryChatStore()
    store.state = ChatState(workspace_id="WS1", ticket_id="T1", visitor_id="V1")
    store.messages = [_message(1)]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 2:  # an agent replies (and writes a note) while the visitor waits
            store.messages += [_message(2, MessageKind.NOTE), _message(3, MessageKind.REPLY)]
            store.revision += 2

    news = wait_for_news(
        _deps(store, sleep),
        "WS1",
        "T1",
        after=store.messages[0].id,
        known_version=0,
        wait_seconds=20,
        for_visitor=True,
    )
    assert [m.text for m in news.messages] == ["message 3"]
    assert news.cursor == _message(3).id and news.mark.version == 2
    assert len(slept) == 2


def test_a_poll_without_a_known_version_answers_waiting_messages_at_once():
    store = MemoryChatStore()
    store.state = ChatState(workspace_id="WS1", ticket_id="T1", visitor_id="V1")
    store.messages = [_message(1), _message(2, MessageKind.REPLY)]
    news = wait_for_news(
        _deps(store, lambda s: pytest.fail("waited")),
        "WS1",
        "T1",
        after=_message(1).id,
        known_version=None,
        wait_seconds=20,
        for_visitor=True,
    )
    assert [m.text for m in news.messages] == ["message 2"]


# -- mail never goes to .invalid ---------------------------------------------------------------


class MemoryMailLog:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def status(self, workspace_id: str, mail_id: str) -> MailStatus | None:
        return None

    def mark_sent(self, workspace_id: str, mail_id: str, provider_message_id: str) -> None:
        raise AssertionError("sent")

    def mark_failed(self, workspace_id: str, mail_id: str, reason: str) -> None:
        self.failed.append(reason)

    def record_attempt(self, workspace_id: str, mail_id: str, error: str) -> None:
        pass


class RefusingSender:
    def send(self, mail: OutboundMail) -> str:
        raise AssertionError(f"mail handed to the provider for {mail.to}")


def test_mail_to_an_anonymous_visitor_s_invalid_address_is_never_sent():
    log = MemoryMailLog()
    mail = OutboundMail(
        mail_id="M1",
        workspace_id="WS1",
        purpose="ticket_reply",
        from_name="Acme",
        to=["visitor-01abc@anonymous.invalid"],
        subject="Re: hello",
        text="hi",
        html="",
    )
    assert deliver(mail, log, RefusingSender()) is MailStatus.FAILED
    assert log.failed and ".invalid" in log.failed[0]


def test_a_poll_that_reads_the_bot_s_hand_off_note_says_handed_off_and_remembers_it():
    store = MemoryChatStore()
    store.state = ChatState(workspace_id="WS1", ticket_id="T1", visitor_id="V1")
    handoff = replace(_message(2, MessageKind.NOTE), author="bot")
    store.messages = [_message(1), handoff]
    signals: list[dict[str, object]] = []
    store.signal = lambda ws, ticket, changes: signals.append(changes)  # type: ignore[attr-defined]
    news = wait_for_news(
        _deps(store), "WS1", "T1", after=None, known_version=None, wait_seconds=0, for_visitor=True
    )
    assert news.handed_off is True
    assert [m.text for m in news.messages] == ["message 1"]  # never the note itself
    assert signals == [{"handed_off": True}] and news.mark.version == 1


def test_a_poll_without_a_hand_off_says_nothing_of_one_and_writes_nothing():
    store = MemoryChatStore()
    store.state = ChatState(workspace_id="WS1", ticket_id="T1", visitor_id="V1")
    store.messages = [_message(1), _message(2, MessageKind.NOTE)]  # a teammate's note
    news = wait_for_news(
        _deps(store), "WS1", "T1", after=None, known_version=None, wait_seconds=0, for_visitor=True
    )
    assert news.handed_off is False and news.mark.version == 0
