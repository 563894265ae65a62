"""The chat widget's API: settings, who may call it, conversations as tickets, and what a
visitor can and cannot reach."""

from __future__ import annotations

import pytest

from chalicelib.chat.identity import user_hash
from tests.integration.chat_helpers import ORIGIN, enable_chat, start, visitor


@pytest.fixture()
def owner(api, clean_aws):
    return api.sign_up(workspace="Acme Support")


@pytest.fixture()
def key(api, owner):
    return enable_chat(api, owner)["public_key"]


def test_settings_start_off_with_a_public_key_a_snippet_and_greetings_in_both_languages(api, owner):
    status, settings, _ = api.request("GET", "/v1/chat/settings", token=owner["token"])
    assert status == 200
    assert settings["enabled"] is False and settings["allowed_origins"] == []
    assert settings["public_key"].startswith("pk_") and len(settings["public_key"]) == 25
    assert f'data-workspace="{settings["public_key"]}"' in settings["snippet"]
    assert "/chat/widget.js" in settings["snippet"]
    assert settings["greeting"]["en"] and settings["greeting"]["fr"] != settings["greeting"]["en"]
    assert settings["office_hours"]["time_zone"] == "UTC"
    assert settings["ai_answers_effective"] is False
    again = api.request("GET", "/v1/chat/settings", token=owner["token"])[1]
    assert again["public_key"] == settings["public_key"]


def test_owners_change_settings_with_origins_normalised_and_bad_values_refused(api, owner):
    changed = enable_chat(api, owner, allowed_origins=["https://WWW.Acme.example/", ORIGIN])
    assert changed["enabled"] is True and changed["allowed_origins"] == [ORIGIN]
    for bad in (
        {"allowed_origins": ["http://acme.example"]},
        {"colour": "red"},
        {"ai_answers": True},  # AI is off for the workspace
        {"identity_verification": {"required": True}},  # no identity secret yet
        {"office_hours": {"weekly": {"mon": [{"start": "18:00", "end": "09:00"}]}}},
        {"unknown": 1},
    ):
        status, body, _ = api.request("PUT", "/v1/chat/settings", bad, token=owner["token"])
        assert status == 422, (bad, body)
    after = api.request("GET", "/v1/chat/settings", token=owner["token"])[1]
    assert after == changed


def test_rotating_the_public_key_retires_the_old_one(api, owner, key):
    status, rotated, _ = api.request("POST", "/v1/chat/settings/public-key", token=owner["token"])
    assert status == 200 and rotated["public_key"] != key
    assert visitor(api, "GET", f"/v1/chat/{key}/config")[1]["error"]["code"] == "chat_not_found"
    assert visitor(api, "GET", f"/v1/chat/{rotated['public_key']}/config")[0] == 200


def test_the_widget_config_answers_the_allowed_origin_only_with_cors_for_it(api, owner, key):
    status, config, headers = visitor(api, "GET", f"/v1/chat/{key}/config?locale=fr-FR")
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Access-Control-Allow-Credentials" not in headers
    assert config["locale"] == "fr" and config["greeting"].startswith("Bonjour")
    assert config["team_name"] == "Acme Support" and config["online"] is True
    assert config["turnstile_site_key"] is None and config["ai_answers"] is False
    for origin in ("https://evil.example", None):
        status, body, headers = visitor(api, "GET", f"/v1/chat/{key}/config", origin=origin)
        assert status == 403 and body["error"]["code"] == "origin_not_allowed"
        assert "Access-Control-Allow-Origin" not in headers


def test_preflights_are_answered_for_the_allowed_origin_only(api, key):
    path = f"/v1/chat/{key}/conversations"
    allowed = api.client.http.request(
        "OPTIONS", path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in allowed.headers["Access-Control-Allow-Headers"]
    refused = api.client.http.request("OPTIONS", path, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_an_unknown_key_or_a_widget_turned_off_is_refused(api, owner, key):
    status, body, _ = visitor(api, "GET", "/v1/chat/pk_000000000000000000000A/config")
    assert status == 404 and body["error"]["code"] == "chat_not_found"
    api.request("PUT", "/v1/chat/settings", {"enabled": False}, token=owner["token"])
    status, body, headers = visitor(api, "POST", f"/v1/chat/{key}/conversations", {"message": "hi"})
    assert status == 403 and body["error"]["code"] == "chat_disabled"
    assert headers["Access-Control-Allow-Origin"] == ORIGIN  # the widget can read why


def test_a_visitor_s_first_message_opens_a_chat_ticket_and_comes_back_as_the_same_text(
    api, owner, key
):
    text = '<script>alert("x")</script> <b>bold</b> javascript:void(0) مرحبا 👋'
    started = start(
        api,
        key,
        text,
        page_url="https://www.acme.example/pricing",
        language="en-GB",
        local_time="2026-11-30T14:05:00+01:00",
        client_id="c-1",
    )
    assert started["visitor_token"] and started["cursor"] == started["messages"][0]["id"]
    [first] = started["messages"]
    assert first["text"] == text and first["author"] == "visitor"
    assert first["client_id"] == "c-1"
    conversation = started["conversation"]
    assert conversation["status"] == "new" and conversation["email_known"] is False
    status, ticket, _ = api.request(
        "GET", f"/v1/tickets/{conversation['id']}", token=owner["token"]
    )
    assert status == 200
    assert ticket["channel"] == "chat"
    assert ticket["subject"] == text[:80]
    assert ticket["requester"]["email"].endswith("@anonymous.invalid")
    [message] = ticket["messages"]
    assert message["kind"] == "customer" and message["text"] == text
    assert "<script>" not in (message["html"] or "")
    assert message["chat"]["page_url"] == "https://www.acme.example/pricing"
    assert message["chat"]["local_time"] == "2026-11-30T14:05:00+01:00"


def test_a_message_sent_twice_with_the_same_client_id_is_stored_once(api, key):
    started = start(api, key)
    token, cid = started["visitor_token"], started["conversation"]["id"]
    path = f"/v1/chat/{key}/conversations/{cid}/messages"
    first = visitor(api, "POST", path, {"text": "Are you there?", "client_id": "c-2"}, token)
    again = visitor(api, "POST", path, {"text": "Are you there?", "client_id": "c-2"}, token)
    assert (first[0], again[0]) == (201, 200)
    assert again[1]["id"] == first[1]["id"]
    status, listed, _ = visitor(api, "GET", path + f"?after={started['cursor']}", None, token)
    assert status == 200 and [m["text"] for m in listed["messages"]] == ["Are you there?"]


def test_a_visitor_token_reaches_its_own_conversation_only(api, owner, key):
    mine = start(api, key)
    theirs = start(api, key, "Another visitor")
    other = api.sign_up(workspace="Bolt Support", email="bo@bolt.test")
    other_key = enable_chat(api, other)["public_key"]
    elsewhere = start(api, other_key, "Bolt visitor")
    cid = theirs["conversation"]["id"]
    for path_key, conversation, token in (
        (key, cid, mine["visitor_token"]),  # another conversation of the same workspace
        (other_key, mine["conversation"]["id"], mine["visitor_token"]),  # another workspace
        (key, elsewhere["conversation"]["id"], elsewhere["visitor_token"]),
    ):
        for method, suffix, body in (
            ("GET", "", None),
            ("GET", "/messages", None),
            ("POST", "/messages", {"text": "peek"}),
            ("POST", "/rating", {"rating": "bad"}),
        ):
            status, answer, _ = visitor(
                api,
                method,
                f"/v1/chat/{path_key}/conversations/{conversation}{suffix}",
                body,
                token,
            )
            assert status == 404, (method, suffix, answer)
            assert answer["error"]["code"] == "conversation_not_found"
    for token in (None, "forged.token", mine["visitor_token"][:-2] + "xx"):
        status, answer, _ = visitor(
            api, "GET", f"/v1/chat/{key}/conversations/{mine['conversation']['id']}", None, token
        )
        assert status == 401 and answer["error"]["code"] == "invalid_visitor_token"
    # A member of another workspace sees its own settings, never these.
    theirs_settings = api.request("GET", "/v1/chat/settings", token=other["token"])[1]
    assert theirs_settings["public_key"] == other_key != key
    status, _, _ = api.request("GET", f"/v1/tickets/{cid}", token=other["token"])
    assert status == 404


def test_a_required_email_and_the_per_address_hourly_limit_refuse_a_start(api, owner, key):
    enable_chat(api, owner, pre_chat_fields={"name": "off", "email": "required"})
    status, body, _ = visitor(api, "POST", f"/v1/chat/{key}/conversations", {"message": "hi"})
    assert status == 422
    enable_chat(api, owner, pre_chat_fields={"name": "off", "email": "optional"})
    for _ in range(10):
        start(api, key)
    status, body, headers = visitor(api, "POST", f"/v1/chat/{key}/conversations", {"message": "hi"})
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert int(headers["Retry-After"]) > 0


def test_identity_verification_refuses_forged_hashes_and_lists_a_verified_visitor_s_history(
    api, owner, key
):
    status, secret, _ = api.request(
        "POST", "/v1/chat/settings/identity-secret", token=owner["token"]
    )
    assert status == 200 and secret["identity_secret"]
    settings = api.request("GET", "/v1/chat/settings", token=owner["token"])[1]
    assert settings["identity_verification"] == {"required": False, "secret_set": True}
    assert "identity_secret" not in str(settings)
    identity = {
        "user_id": "u-42",
        "email": "carol@customer.test",
        "name": "Carol",
        "user_hash": user_hash(secret["identity_secret"], "u-42"),
    }
    forged = {**identity, "user_hash": user_hash("guessed", "u-42")}
    status, body, _ = visitor(
        api, "POST", f"/v1/chat/{key}/conversations", {"message": "hi", "identity": forged}
    )
    assert status == 403 and body["error"]["code"] == "identity_not_verified"
    first = start(api, key, "First question", identity=identity)
    second = start(api, key, "Second question", identity=identity)
    assert first["conversation"]["email_known"] is True
    status, history, _ = visitor(api, "POST", f"/v1/chat/{key}/history", {"identity": identity})
    assert status == 200
    assert [c["id"] for c in history["conversations"]] == [
        second["conversation"]["id"],
        first["conversation"]["id"],
    ]
    token = history["conversations"][1]["visitor_token"]
    status, _, _ = visitor(
        api, "GET", f"/v1/chat/{key}/conversations/{first['conversation']['id']}", None, token
    )
    assert status == 200
    status, _, _ = visitor(api, "POST", f"/v1/chat/{key}/history", {"identity": forged})
    assert status == 403
    enable_chat(api, owner, identity_verification={"required": True})
    status, body, _ = visitor(api, "POST", f"/v1/chat/{key}/conversations", {"message": "anon"})
    assert status == 403 and body["error"]["code"] == "identity_not_verified"


def test_leaving_an_address_asking_for_a_person_rating_and_ending(api, owner, key):
    started = start(api, key)
    token, cid = started["visitor_token"], started["conversation"]["id"]
    base = f"/v1/chat/{key}/conversations/{cid}"
    status, conversation, _ = visitor(
        api, "POST", base + "/email", {"email": "Dan@Customer.test", "name": "Dan"}, token
    )
    assert status == 200 and conversation["email_known"] is True
    ticket = api.request("GET", f"/v1/tickets/{cid}", token=owner["token"])[1]
    assert ticket["requester"]["email"] == "dan@customer.test"
    assert ticket["sender_verified"] is False
    status, conversation, _ = visitor(api, "POST", base + "/handoff", None, token)
    assert status == 200 and conversation["status"] == "open"
    detail = api.request("GET", f"/v1/tickets/{cid}", token=owner["token"])[1]
    assert detail["status"] == "open"
    assert [m["text"] for m in detail["messages"] if m["kind"] == "note"] == [
        "The visitor asked for a person."
    ]
    listed = visitor(api, "GET", base + "/messages", None, token)[1]
    assert all(m["author"] == "visitor" for m in listed["messages"])  # never the note
    status, body, _ = visitor(
        api,
        "POST",
        base + "/feedback",
        {"message_id": started["messages"][0]["id"], "helped": True},
        token,
    )
    assert status == 404 and body["error"]["code"] == "message_not_found"
    status, conversation, _ = visitor(api, "POST", base + "/rating", {"rating": "good"}, token)
    assert status == 200 and conversation["rating"] == "good"
    assert visitor(api, "POST", base + "/rating", {"rating": "meh"}, token)[0] == 422
    status, conversation, _ = visitor(api, "POST", base + "/end", {"transcript": True}, token)
    assert status == 200 and conversation["ended"] is True
    from tests.integration.conftest import take_queued_mail

    transcript = take_queued_mail("dan@customer.test", "chat_transcript")
    assert "Hello, is anyone there?" in transcript["text"] and transcript["html"] == ""
    assert transcript["reply_to"].startswith("acme-support+t-")


def test_with_turnstile_configured_a_start_needs_a_human(api, owner, key, monkeypatch):
    from chalicelib import bootstrap
    from chalicelib.settings import reload_settings
    from fakes.turnstile import FakeTurnstile

    fake = FakeTurnstile(secret_key="ts-secret").start()
    try:
        monkeypatch.setenv("TURNSTILE_SITE_KEY", "ts-site-key")
        monkeypatch.setenv("TURNSTILE_SECRET_KEY", "ts-secret")
        monkeypatch.setenv("TURNSTILE_API_BASE", fake.url)
        reload_settings()
        bootstrap.reset()
        config = visitor(api, "GET", f"/v1/chat/{key}/config")[1]
        assert config["turnstile_site_key"] == "ts-site-key"
        path = f"/v1/chat/{key}/conversations"
        for token in (None, "bot-token"):
            body = {"message": "hi", **({"turnstile_token": token} if token else {})}
            status, answer, _ = visitor(api, "POST", path, body)
            assert status == 403 and answer["error"]["code"] == "human_check_failed"
        assert api.request("GET", "/v1/tickets", token=owner["token"])[1]["tickets"] == []
        status, _, _ = visitor(
            api, "POST", path, {"message": "hi", "turnstile_token": "XXXX.DUMMY.TOKEN.XXXX"}
        )
        assert status == 201
    finally:
        monkeypatch.undo()
        reload_settings()
        bootstrap.reset()
        fake.stop()


def test_bad_visitor_input_is_a_4xx_and_changes_nothing(api, owner, key):
    started = start(api, key)
    token, cid = started["visitor_token"], started["conversation"]["id"]
    base = f"/v1/chat/{key}/conversations/{cid}"
    for method, path, body, expected in (
        ("POST", f"/v1/chat/{key}/conversations", {"message": ""}, 422),
        ("POST", f"/v1/chat/{key}/conversations", {"message": "   "}, 422),
        ("POST", f"/v1/chat/{key}/conversations", {"message": "x" * 4001}, 422),
        ("POST", f"/v1/chat/{key}/conversations", {"message": "hi", "email": "nope"}, 422),
        ("POST", f"/v1/chat/{key}/conversations", "not json", 400),
        ("POST", base + "/messages", {"text": "hi", "client_id": "has spaces"}, 422),
        ("POST", base + "/messages", {"text": "hi", "extra": 1}, 422),
        ("GET", base + "/messages?after=not-an-id", None, 422),
        ("GET", base + "/messages?wait=21", None, 422),
        ("GET", base + "/messages?version=-1", None, 422),
        ("POST", base + "/seen", {"message_id": "short"}, 422),
        ("POST", base + "/typing", {"typing": "yes"}, 422),
        ("POST", base + "/email", {"email": "not an address"}, 422),
        ("POST", base + "/end", {"transcript": "please"}, 422),
        ("GET", f"/v1/chat/{key}/conversations/NOTANID/messages", None, 404),
        ("GET", "/v1/chat/pk_<script>/config", None, 404),
    ):
        status, answer, _ = visitor(api, method, path, body, token)
        assert status == expected, (method, path, answer)
        assert answer["error"]["code"], (method, path)
    status, _, _ = visitor(api, "POST", base + "/messages", {"text": "x" * 2_000_000}, token)
    assert status == 413
    detail = api.request("GET", f"/v1/tickets/{cid}", token=owner["token"])[1]
    assert len(detail["messages"]) == 1
    tickets = api.request("GET", "/v1/tickets", token=owner["token"])[1]["tickets"]
    assert len(tickets) == 1


def test_asking_for_a_person_twice_leaves_one_note(api, owner, key):
    started = start(api, key)
    token, cid = started["visitor_token"], started["conversation"]["id"]
    for _ in range(2):
        status, _, _ = visitor(
            api, "POST", f"/v1/chat/{key}/conversations/{cid}/handoff", None, token
        )
        assert status == 200
    detail = api.request("GET", f"/v1/tickets/{cid}", token=owner["token"])[1]
    assert [m["kind"] for m in detail["messages"]] == ["customer", "note"]


def test_outside_office_hours_a_conversation_still_opens_and_says_the_team_is_away(api, owner, key):
    enable_chat(api, owner, office_hours={"weekly": {}, "always_open": False})
    config = visitor(api, "GET", f"/v1/chat/{key}/config")[1]
    assert config["online"] is False
    started = start(api, key, "Anyone there at night?")
    assert started["conversation"]["online"] is False
    assert started["conversation"]["status"] == "new"


def test_a_visitor_asking_for_a_person_is_counted_once_in_the_chat_insights(api, owner, key):
    started = start(api, key)
    token, cid = started["visitor_token"], started["conversation"]["id"]
    for _ in range(2):
        visitor(api, "POST", f"/v1/chat/{key}/conversations/{cid}/handoff", None, token)
    insights = api.request("GET", "/v1/chat/insights", token=owner["token"])[1]
    assert insights["handoffs"]["visitor_asked"] == 1


def test_asking_for_a_person_after_the_bot_handed_off_writes_no_second_hand_off(api, owner, key):
    started = start(api, key)
    token, cid = started["visitor_token"], started["conversation"]["id"]
    from chalicelib import bootstrap
    from chalicelib.chat.bot import hand_off as bot_hand_off
    from chalicelib.chat.bot_rules import HandoffReason

    bot = bootstrap.chat_answer_bot()
    ticket = bootstrap.ticket_deps().store.get_ticket(owner["workspace"]["id"], cid)
    bot_hand_off(bot.deps, ticket, HandoffReason.NO_ARTICLE, None, "No article answers this.")
    status, _, _ = visitor(api, "POST", f"/v1/chat/{key}/conversations/{cid}/handoff", None, token)
    assert status == 200
    detail = api.request("GET", f"/v1/tickets/{cid}", token=owner["token"])[1]
    assert [a["action"] for a in detail["activity"]].count("handoff") == 1
    assert [m["kind"] for m in detail["messages"]].count("note") == 1
