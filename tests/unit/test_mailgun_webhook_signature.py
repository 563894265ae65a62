"""Mailgun webhook deliveries: only Mailgun's, only fresh, each acted on once; event reading."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.errors import BadRequest, Forbidden, ServiceUnavailable, Unauthenticated
from chalicelib.http_forms import parse_form
from chalicelib.providers.mailgun_webhooks import (
    DEFAULT_TOLERANCE_SECONDS,
    MAILGUN_RETRY_WINDOW_SECONDS,
    MemoryReplayGuard,
    parse_event,
    sign,
    verify_event,
    verify_inbound,
    verify_signature,
)
from fakes.mailgun import InboundAttachment, event_payload, inbound_form, signature_fields

KEY = "key-webhook-signing"
NOW = 1_800_000_000.0
STAMP = str(int(NOW))
TOKEN = "6f1d9a1c0c6e4b2f8a5d3e7b9c1f0a2d4e6b8c0a1f3e5d7b9c"


def signed(timestamp: str = STAMP, token: str = TOKEN, key: str = KEY) -> dict[str, str]:
    return {"timestamp": timestamp, "token": token, "signature": sign(key, timestamp, token)}


def check(fields: dict[str, str], key: str = KEY, now: float = NOW) -> None:
    verify_signature(key, fields["timestamp"], fields["token"], fields["signature"], now=now)


def mail_post(**overrides: Any) -> tuple[bytes, str]:
    """A parsed-mode route post signed with KEY at NOW."""
    defaults: dict[str, Any] = {
        "recipient": "support@in.helptal.test",
        "sender": "ann@example.com",
        "signing_key": KEY,
        "timestamp": int(NOW),
    }
    return inbound_form(**{**defaults, **overrides})


# --- the signature ------------------------------------------------------------------------------


def test_signature_matches_mailguns_scheme_as_the_fake_computes_it() -> None:
    fields = signature_fields(KEY, timestamp=int(NOW), token=TOKEN)

    assert fields["signature"] == sign(KEY, STAMP, TOKEN)
    check(fields)


def test_upper_case_hex_signature_is_accepted() -> None:
    fields = signed()

    check({**fields, "signature": fields["signature"].upper()})


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param(signed(key="another-key"), id="wrong-key"),
        pytest.param({**signed(), "token": TOKEN[:-1] + "0"}, id="tampered-token"),
        pytest.param({**signed(), "timestamp": str(int(NOW) - 1)}, id="tampered-timestamp"),
        pytest.param({**signed(), "signature": "z" * 64}, id="not-hex"),
        pytest.param({**signed(), "signature": signed()["signature"][:63]}, id="short"),
        pytest.param({**signed(), "signature": ""}, id="empty"),
        pytest.param({**signed(), "timestamp": "1.8e9"}, id="timestamp-not-digits"),
        pytest.param({**signed(), "timestamp": "-1800000000"}, id="timestamp-negative"),
        pytest.param({**signed(), "timestamp": ""}, id="timestamp-empty"),
        pytest.param({**signed(), "token": ""}, id="token-empty"),
        pytest.param(signed(token="x" * 201), id="token-too-long"),
        pytest.param(signed(token="has space"), id="token-with-space"),
    ],
)
def test_delivery_not_signed_with_our_key_is_unauthenticated(forged: dict[str, str]) -> None:
    with pytest.raises(Unauthenticated) as caught:
        check(forged)

    assert caught.value.status == 401
    assert caught.value.code == "invalid_signature"


def test_token_of_200_characters_is_accepted() -> None:
    check(signed(token="t" * 200))


@pytest.mark.parametrize(
    "offset", [-DEFAULT_TOLERANCE_SECONDS - 1, DEFAULT_TOLERANCE_SECONDS + 1, -86_400, 86_400]
)
def test_genuine_signature_outside_the_window_is_stale(offset: int) -> None:
    fields = signed(timestamp=str(int(NOW) + offset))

    with pytest.raises(Forbidden) as caught:
        check(fields)

    assert caught.value.status == 403
    assert caught.value.code == "stale_signature"


@pytest.mark.parametrize("offset", [-DEFAULT_TOLERANCE_SECONDS, 0, DEFAULT_TOLERANCE_SECONDS])
def test_genuine_signature_at_the_edges_of_the_window_is_accepted(offset: int) -> None:
    check(signed(timestamp=str(int(NOW) + offset)))


def test_forged_and_old_delivery_is_reported_as_forged_not_stale() -> None:
    with pytest.raises(Unauthenticated):
        check(signed(timestamp=str(int(NOW) - 86_400), key="another-key"))


@pytest.mark.parametrize("fields", [signed(), {"timestamp": "", "token": "", "signature": ""}])
def test_without_a_signing_key_every_delivery_is_refused_as_not_configured(
    fields: dict[str, str],
) -> None:
    with pytest.raises(ServiceUnavailable) as caught:
        check(fields, key="")

    assert caught.value.status == 503
    assert caught.value.code == "webhook_not_configured"


# --- inbound mail posts -------------------------------------------------------------------------


def test_inbound_mail_signed_by_mailgun_is_accepted_once() -> None:
    guard = MemoryReplayGuard()
    body, content_type = mail_post(
        attachments=[InboundAttachment("a.pdf", "application/pdf", b"%PDF")]
    )
    form = parse_form(body, content_type)

    assert verify_inbound(form, KEY, guard, NOW) is True
    assert verify_inbound(form, KEY, guard, NOW + 600) is False


def test_replayed_token_is_remembered_until_its_timestamp_is_refused_anyway() -> None:
    guard = MemoryReplayGuard()
    form = parse_form(*mail_post(token=TOKEN))

    verify_inbound(form, KEY, guard, NOW)

    assert guard.tokens[TOKEN] > int(NOW) + MAILGUN_RETRY_WINDOW_SECONDS


def test_inbound_mail_retried_hours_later_with_its_first_signature_is_accepted() -> None:
    form = parse_form(*mail_post())

    assert verify_inbound(form, KEY, MemoryReplayGuard(), NOW + 8 * 3600) is True


def test_inbound_mail_older_than_mailguns_retry_window_is_stale() -> None:
    form = parse_form(*mail_post())

    with pytest.raises(Forbidden):
        verify_inbound(form, KEY, MemoryReplayGuard(), NOW + MAILGUN_RETRY_WINDOW_SECONDS + 1)


def test_unsigned_or_forged_inbound_mail_is_refused_and_its_token_not_claimed() -> None:
    guard = MemoryReplayGuard()
    unsigned = parse_form(
        b"recipient=support%40in.helptal.test&body-plain=hi", "application/x-www-form-urlencoded"
    )
    forged = parse_form(*mail_post(signing_key="another-key"))

    for form in (unsigned, forged):
        with pytest.raises(Unauthenticated):
            verify_inbound(form, KEY, guard, NOW)

    assert guard.tokens == {}


def test_inbound_mail_is_refused_when_the_signing_key_is_not_configured() -> None:
    with pytest.raises(ServiceUnavailable):
        verify_inbound(parse_form(*mail_post()), "", MemoryReplayGuard(), NOW)


# --- event webhooks -----------------------------------------------------------------------------


def test_event_signed_by_mailgun_is_accepted_once() -> None:
    guard = MemoryReplayGuard()
    payload = event_payload(
        "delivered", "<m1@mg.helptal.test>", "bob@example.com", signing_key=KEY, timestamp=int(NOW)
    )

    assert verify_event(payload, KEY, guard, NOW) is True
    assert verify_event(payload, KEY, guard, NOW) is False


def test_event_with_a_numeric_json_timestamp_is_accepted() -> None:
    payload = {"signature": {**signed(), "timestamp": int(NOW)}, "event-data": {}}

    assert verify_event(payload, KEY, MemoryReplayGuard(), NOW) is True


@pytest.mark.parametrize(
    "payload",
    [
        {"event-data": {"event": "delivered"}},
        {"signature": "abc", "event-data": {}},
        {"signature": {**signed(), "signature": None}},
        {"signature": {**signed(), "timestamp": True}},
        ["not", "an", "object"],
    ],
)
def test_event_without_a_valid_signature_block_is_unauthenticated(payload: object) -> None:
    with pytest.raises(Unauthenticated):
        verify_event(payload, KEY, MemoryReplayGuard(), NOW)


def test_permanent_failure_event_tells_which_mail_bounced_and_why() -> None:
    payload = event_payload(
        "failed",
        "<20261129.1@mg.helptal.test>",
        "bob@example.com",
        severity="permanent",
        reason="bounce",
        mail_id="01JMAIL",
        event_timestamp=1_795_000_000.25,
        event_id="evt-1",
    )

    event = parse_event(payload)

    assert event.event == "failed"
    assert event.event_id == "evt-1"
    assert event.timestamp == 1_795_000_000.25
    assert event.message_id == "20261129.1@mg.helptal.test"
    assert event.recipient == "bob@example.com"
    assert (event.severity, event.reason) == ("permanent", "bounce")
    assert event.delivery_status_code == 550
    assert event.delivery_status_message is not None
    assert "does not exist" in event.delivery_status_message
    assert event.mail_id == "01JMAIL"


def test_delivered_event_without_user_variables_has_no_mail_id() -> None:
    event = parse_event(event_payload("delivered", "m2@mg.helptal.test", "bob@example.com"))

    assert (event.event, event.delivery_status_code, event.mail_id) == ("delivered", 250, None)
    assert event.severity is None


def test_event_keys_mailgun_adds_later_are_ignored_and_odd_values_tolerated() -> None:
    payload = event_payload(
        "opened",
        "m3@mg.helptal.test",
        "bob@example.com",
        extra={
            "geolocation": {"country": "SG"},
            "brand-new-field": [1, 2, 3],
            "delivery-status": {"code": "421", "description": "busy"},
            "user-variables": '{"helptal-mail-id": "01JSTR"}',
        },
    )

    event = parse_event(payload)

    assert event.event == "opened"
    assert event.delivery_status_code == 421
    assert event.delivery_status_message == "busy"
    assert event.mail_id == "01JSTR"


@pytest.mark.parametrize(
    "payload",
    [
        {"signature": signed()},
        {"event-data": None},
        {"event-data": {"timestamp": NOW}},
        {"event-data": {"event": "delivered"}},
        {"event-data": {"event": "delivered", "timestamp": "yesterday"}},
        "not an object",
    ],
)
def test_event_without_event_data_is_a_bad_request(payload: object) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_event(payload)

    assert caught.value.status == 400
    assert caught.value.code == "malformed_event"


def test_user_variables_nested_too_deep_are_ignored_not_a_crash() -> None:
    payload = event_payload("delivered", "m3@mg.helptal.test", "bob@example.com")
    payload["event-data"]["user-variables"] = "[" * 100_000

    event = parse_event(payload)

    assert (event.event, event.mail_id) == ("delivered", None)
