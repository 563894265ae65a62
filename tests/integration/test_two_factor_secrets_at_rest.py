"""Two-factor secrets are kept sealed in the table (AES-256-GCM with the deployment's key):
the raw item never holds one in clear, a sealed secret copied to another user opens for
nobody, a rotated key keeps sign-in working and the secret is sealed again with the new key,
and without a key two-factor sign-in fails closed (503) instead of letting anyone in."""

from __future__ import annotations

import pyotp
import pytest

from chalicelib.settings import reload_settings
from chalicelib.store import keys
from chalicelib.store.secret_box import decode_key, key_id
from tests.conftest import TEST_TWO_FACTOR_KEY
from tests.integration.conftest import PASSWORD

NEW_KEY = "33" * 32


def _code(secret, clock):
    return pyotp.TOTP(secret).at(clock.now().timestamp())


def _raw_user(aws, user_id):
    """The user's item as DynamoDB holds it (read with boto3, past every adapter)."""
    found = aws.client("dynamodb").get_item(
        TableName=aws.table_name,
        Key={"PK": {"S": keys.user_pk(user_id)}, "SK": {"S": keys.USER_SK}},
    )
    return found["Item"]


def _set_raw_secret(aws, user_id, value):
    aws.client("dynamodb").update_item(
        TableName=aws.table_name,
        Key={"PK": {"S": keys.user_pk(user_id)}, "SK": {"S": keys.USER_SK}},
        UpdateExpression="SET two_factor_secret = :v",
        ExpressionAttributeValues={":v": {"S": value}},
    )


def _use_keys(monkeypatch, current, previous=""):
    monkeypatch.setenv("TWO_FACTOR_KEY", current)
    monkeypatch.setenv("TWO_FACTOR_KEY_PREVIOUS", previous)
    reload_settings()


@pytest.fixture(autouse=True)
def _test_keys_again_afterwards(monkeypatch):
    yield
    monkeypatch.undo()
    reload_settings()


def _enrol(api, token, clock):
    status, enrolment, _ = api.request("POST", "/v1/me/two-factor", token=token)
    assert status == 201, enrolment
    secret = enrolment["secret"]
    status, body, _ = api.request(
        "POST", "/v1/me/two-factor/confirm", {"code": _code(secret, clock)}, token=token
    )
    assert status == 200, body
    clock.advance(seconds=30)
    return secret


def _sign_in(api, clock, secret, email="ann@acme.test"):
    status, first, _ = api.request("POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
    assert status == 200 and first["two_factor_required"] is True, first
    status, body, _ = api.request(
        "POST",
        "/v1/auth/login/two-factor",
        {"challenge": first["challenge"], "code": _code(secret, clock)},
    )
    clock.advance(seconds=30)
    return status, body


def _sealed_by(value):
    version, sealed_by, _ = value.split(":", 2)
    assert version == "v1"
    return sealed_by


def test_the_table_never_holds_a_two_factor_secret_in_clear(api, aws, clock):
    owner = api.sign_up()
    user_id = owner["user"]["id"]
    status, enrolment, _ = api.request("POST", "/v1/me/two-factor", token=owner["token"])
    assert status == 201
    secret = enrolment["secret"]

    offered = _raw_user(aws, user_id)
    assert secret not in str(offered)
    assert _sealed_by(offered["two_factor_pending_secret"]["S"]) == key_id(
        decode_key(TEST_TWO_FACTOR_KEY)
    )

    status, _, _ = api.request(
        "POST", "/v1/me/two-factor/confirm", {"code": _code(secret, clock)}, token=owner["token"]
    )
    assert status == 200
    enabled = _raw_user(aws, user_id)
    assert secret not in str(enabled)
    assert "two_factor_pending_secret" not in enabled
    assert _sealed_by(enabled["two_factor_secret"]["S"]) == key_id(decode_key(TEST_TWO_FACTOR_KEY))
    clock.advance(seconds=30)

    status, body = _sign_in(api, clock, secret)
    assert status == 200 and body["token"].startswith("hts_")


def test_a_sealed_secret_copied_to_another_user_opens_for_nobody(api, aws, clock, caplog):
    ann = api.sign_up()
    ann_secret = _enrol(api, ann["token"], clock)
    bob = api.sign_up(workspace="Beta Support", email="bob@beta.test", name="Bob")
    _enrol(api, bob["token"], clock)
    ann_sealed = _raw_user(aws, ann["user"]["id"])["two_factor_secret"]["S"]
    _set_raw_secret(aws, bob["user"]["id"], ann_sealed)

    # Ann's codes do not sign Bob in: the secret does not open for him, and nobody gets in.
    status, body = _sign_in(api, clock, ann_secret, email="bob@beta.test")
    assert (status, body["error"]["code"]) == (503, "two_factor_unavailable")
    assert "token" not in body
    # Logged for the operators, with whose secret it is, never the secret.
    told = [r for r in caplog.records if r.getMessage() == "a two-factor secret does not open"]
    assert told and told[0].user_id == bob["user"]["id"]
    assert ann_secret not in caplog.text and ann_sealed not in caplog.text
    # Ann herself is unaffected.
    assert _sign_in(api, clock, ann_secret)[0] == 200


def test_after_a_key_rotation_sign_in_works_and_seals_the_secret_with_the_new_key(
    api, aws, clock, monkeypatch
):
    owner = api.sign_up()
    user_id = owner["user"]["id"]
    secret = _enrol(api, owner["token"], clock)
    old_sealed = _raw_user(aws, user_id)["two_factor_secret"]["S"]

    _use_keys(monkeypatch, NEW_KEY, previous=TEST_TWO_FACTOR_KEY)
    status, state, _ = api.request("GET", "/v1/me/two-factor", token=owner["token"])
    assert state["enabled"] is True
    assert _raw_user(aws, user_id)["two_factor_secret"]["S"] == old_sealed  # reads write nothing

    status, body = _sign_in(api, clock, secret)
    assert status == 200, body
    resealed = _raw_user(aws, user_id)["two_factor_secret"]["S"]
    assert _sealed_by(resealed) == key_id(decode_key(NEW_KEY)) and secret not in resealed

    # Sealed with the new key: the old one can go, and sign-in needs no more writes to it.
    _use_keys(monkeypatch, NEW_KEY)
    assert _sign_in(api, clock, secret)[0] == 200
    assert _raw_user(aws, user_id)["two_factor_secret"]["S"] == resealed


def test_a_secret_sealed_by_a_key_no_longer_configured_fails_closed(api, clock, monkeypatch):
    owner = api.sign_up()
    secret = _enrol(api, owner["token"], clock)

    _use_keys(monkeypatch, NEW_KEY)  # rotated without keeping the previous key
    status, body = _sign_in(api, clock, secret)
    assert (status, body["error"]["code"]) == (503, "two_factor_unavailable")


def test_without_a_key_two_factor_fails_closed(api, clock, monkeypatch):
    owner = api.sign_up()
    secret = _enrol(api, owner["token"], clock)
    bob = api.sign_up(workspace="Beta Support", email="bob@beta.test", name="Bob")

    _use_keys(monkeypatch, "")
    status, body = _sign_in(api, clock, secret)
    assert (status, body["error"]["code"]) == (503, "two_factor_unavailable")
    assert "token" not in body
    # Nothing to enrol with either: the secret is never shown when it cannot be kept sealed.
    status, body, _ = api.request("POST", "/v1/me/two-factor", token=bob["token"])
    assert (status, body["error"]["code"]) == (503, "two_factor_unavailable")
    assert "secret" not in body
    # A login without two-factor is unaffected.
    status, body, _ = api.request(
        "POST", "/v1/auth/login", {"email": "bob@beta.test", "password": PASSWORD}
    )
    assert status == 200 and body["token"]


def test_a_legacy_secret_kept_in_clear_still_signs_in_and_is_sealed_then(api, aws, clock):
    owner = api.sign_up()
    user_id = owner["user"]["id"]
    secret = _enrol(api, owner["token"], clock)
    _set_raw_secret(aws, user_id, secret)  # as stored before secrets were sealed

    status, body = _sign_in(api, clock, secret)
    assert status == 200, body
    stored = _raw_user(aws, user_id)["two_factor_secret"]["S"]
    assert secret not in stored and _sealed_by(stored) == key_id(decode_key(TEST_TWO_FACTOR_KEY))
    assert _sign_in(api, clock, secret)[0] == 200
