"""A person's profile, password and sessions, through the API."""

import base64
import json

import requests

from tests.integration.conftest import PASSWORD, invite, take_queued_mail

NEW_PASSWORD = "a brand new and unusual passphrase"


def _log_in(api, email="ann@acme.test", password=PASSWORD, **headers):
    status, body, _ = api.request(
        "POST", "/v1/auth/login", {"email": email, "password": password}, headers=headers
    )
    assert status == 200, body
    return body["token"]


def test_profile_shows_name_language_avatar_and_two_factor_off(api):
    owner = api.sign_up()
    status, profile, _ = api.request("GET", "/v1/me/profile", token=owner["token"])
    assert status == 200
    assert profile == {
        "id": owner["user"]["id"],
        "email": "ann@acme.test",
        "name": "Ann Owner",
        "locale": None,
        "avatar": None,
        "avatar_url": None,
        "email_confirmed": True,
        "two_factor": {
            "enabled": False,
            "enabled_at": None,
            "recovery_codes_left": 0,
            "required_by_workspace": False,
        },
    }


def test_renaming_yourself_renames_you_in_every_workspace_you_belong_to(api):
    owner = api.sign_up()
    other = api.sign_up(workspace="Beta", email="bob@beta.test", name="Bob")
    join = invite(api, other["token"], "ann@acme.test")
    status, _, _ = api.request(
        "POST", f"/v1/invitations/{join}/accept", {"name": "Ann", "password": PASSWORD}
    )
    assert status == 200
    status, profile, _ = api.request(
        "PATCH", "/v1/me/profile", {"name": "Ann Martin", "locale": "fr"}, token=owner["token"]
    )
    assert status == 200, profile
    assert (profile["name"], profile["locale"]) == ("Ann Martin", "fr")
    for token in (owner["token"], other["token"]):
        members = api.request("GET", "/v1/members", token=token)[1]["members"]
        assert "Ann Martin" in {m["name"] for m in members}
    assert api.request("GET", "/v1/me", token=owner["token"])[1]["user"]["name"] == "Ann Martin"


def test_bad_profile_changes_are_422_and_change_nothing(api):
    owner = api.sign_up()
    for body in ({"locale": "de"}, {"name": "  "}, {"avatar": "../../x.png"}, {"colour": "red"}):
        status, answer, _ = api.request("PATCH", "/v1/me/profile", body, token=owner["token"])
        assert status == 422, (body, answer)
        assert answer["error"]["code"]
    profile = api.request("GET", "/v1/me/profile", token=owner["token"])[1]
    assert (profile["name"], profile["locale"], profile["avatar"]) == ("Ann Owner", None, None)


def test_avatar_is_uploaded_by_presigned_post_then_set_served_and_removed(api, aws):
    owner = api.sign_up()
    image = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
    status, upload, _ = api.request(
        "POST",
        "/v1/me/avatar",
        {"content_type": "image/png", "size": len(image)},
        token=owner["token"],
    )
    assert status == 201, upload
    assert upload["max_bytes"] == 1024 * 1024
    assert upload["fields"]["Content-Type"] == "image/png"
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    assert ["content-length-range", 1, 1024 * 1024] in policy["conditions"]
    posted = requests.post(
        upload["upload_url"],
        data=upload["fields"],
        files={"file": ("me.png", image, "image/png")},
        timeout=10,
    )
    assert posted.status_code in (200, 201, 204), posted.text
    status, profile, _ = api.request(
        "PATCH", "/v1/me/profile", {"avatar": upload["avatar"]}, token=owner["token"]
    )
    assert status == 200
    assert profile["avatar"] == upload["avatar"]
    path = profile["avatar_url"].split("://", 1)[1].split("/", 1)[1]
    served = api.client.http.get("/" + path)
    assert served.status_code == 302
    assert f"users/{owner['user']['id']}/avatar/" in served.headers["Location"]
    assert requests.get(served.headers["Location"], timeout=10).content == image
    status, profile, _ = api.request(
        "PATCH", "/v1/me/profile", {"avatar": None}, token=owner["token"]
    )
    assert (profile["avatar"], profile["avatar_url"]) == (None, None)


def test_an_avatar_that_is_not_an_image_or_too_big_is_refused(api):
    owner = api.sign_up()
    status, body, _ = api.request(
        "POST", "/v1/me/avatar", {"content_type": "text/html", "size": 20}, token=owner["token"]
    )
    assert (status, body["error"]["code"]) == (422, "unsupported_image_type")
    status, body, _ = api.request(
        "POST",
        "/v1/me/avatar",
        {"content_type": "image/png", "size": 2 * 1024 * 1024},
        token=owner["token"],
    )
    assert (status, body["error"]["code"]) == (413, "image_too_large")
    assert api.client.http.get(f"/v1/users/{owner['user']['id']}/avatar/x.svg").status_code == 404


def test_changing_the_password_signs_out_the_other_sessions_and_keeps_this_one(api):
    owner = api.sign_up()
    laptop = _log_in(api)
    phone = _log_in(api)
    status, body, _ = api.request(
        "POST",
        "/v1/me/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        token=laptop,
    )
    assert status == 200, body
    assert body == {"signed_out": 2}
    assert api.request("GET", "/v1/me", token=laptop)[0] == 200
    assert api.request("GET", "/v1/me", token=phone)[0] == 401
    assert api.request("GET", "/v1/me", token=owner["token"])[0] == 401
    assert _log_in(api, password=NEW_PASSWORD)
    status, _, _ = api.request(
        "POST", "/v1/auth/login", {"email": "ann@acme.test", "password": PASSWORD}
    )
    assert status == 401


def test_a_wrong_current_password_or_a_weak_new_one_changes_nothing(api):
    owner = api.sign_up()
    other = _log_in(api)
    status, body, _ = api.request(
        "POST",
        "/v1/me/password",
        {"current_password": "not my password", "new_password": NEW_PASSWORD},
        token=owner["token"],
    )
    assert (status, body["error"]["code"]) == (422, "invalid_password")
    status, body, _ = api.request(
        "POST",
        "/v1/me/password",
        {"current_password": PASSWORD, "new_password": "password12"},
        token=owner["token"],
    )
    assert (status, body["error"]["code"]) == (422, "weak_password")
    assert api.request("GET", "/v1/me", token=other)[0] == 200
    assert _log_in(api)


def test_wrong_current_passwords_are_throttled_like_logins(api):
    owner = api.sign_up()
    answers = [
        api.request(
            "POST",
            "/v1/me/password",
            {"current_password": f"wrong {n}", "new_password": NEW_PASSWORD},
            token=owner["token"],
        )[0]
        for n in range(12)
    ]
    assert 429 in answers
    assert answers[0] == 422


def test_sessions_are_listed_newest_first_with_the_current_one_flagged(api):
    owner = api.sign_up()
    laptop = _log_in(api, **{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"})
    status, body, _ = api.request("GET", "/v1/me/sessions", token=laptop)
    assert status == 200
    sessions = body["sessions"]
    assert len(sessions) == 2
    assert [s["current"] for s in sessions] == [True, False]
    assert sessions[0]["client"].startswith("Firefox on Linux")
    assert sessions[0]["last_used_at"] is not None
    for session in sessions:
        assert laptop not in str(session) and owner["token"] not in str(session)
        assert len(session["id"]) < 64  # an id, not a token hash


def test_signing_out_one_session_by_its_id(api):
    owner = api.sign_up()
    phone = _log_in(api)
    sessions = api.request("GET", "/v1/me/sessions", token=owner["token"])[1]["sessions"]
    phone_id = next(s["id"] for s in sessions if not s["current"])
    status, _, _ = api.request("DELETE", f"/v1/me/sessions/{phone_id}", token=owner["token"])
    assert status == 204
    assert api.request("GET", "/v1/me", token=phone)[0] == 401
    assert api.request("GET", "/v1/me", token=owner["token"])[0] == 200
    status, body, _ = api.request("DELETE", f"/v1/me/sessions/{phone_id}", token=owner["token"])
    assert (status, body["error"]["code"]) == (404, "session_not_found")


def test_signing_out_everywhere_else_keeps_only_this_session(api):
    owner = api.sign_up()
    others = [_log_in(api) for _ in range(3)]
    status, body, _ = api.request("DELETE", "/v1/me/sessions", token=owner["token"])
    assert (status, body) == (200, {"signed_out": 3})
    assert all(api.request("GET", "/v1/me", token=t)[0] == 401 for t in others)
    sessions = api.request("GET", "/v1/me/sessions", token=owner["token"])[1]["sessions"]
    assert [s["current"] for s in sessions] == [True]


def test_one_person_never_sees_or_signs_out_another_s_sessions(api):
    ann = api.sign_up()
    bob = api.sign_up(workspace="Beta", email="bob@beta.test", name="Bob")
    bob_sessions = api.request("GET", "/v1/me/sessions", token=bob["token"])[1]["sessions"]
    ann_sessions = api.request("GET", "/v1/me/sessions", token=ann["token"])[1]["sessions"]
    assert {s["id"] for s in ann_sessions}.isdisjoint({s["id"] for s in bob_sessions})
    status, _, _ = api.request(
        "DELETE", f"/v1/me/sessions/{bob_sessions[0]['id']}", token=ann["token"]
    )
    assert status == 404
    assert api.request("GET", "/v1/me", token=bob["token"])[0] == 200
    assert api.request("DELETE", "/v1/me/sessions", token=ann["token"])[1] == {"signed_out": 0}
    assert api.request("GET", "/v1/me", token=bob["token"])[0] == 200
    assert api.request("GET", "/v1/me/profile", token=ann["token"])[1]["email"] == "ann@acme.test"


def test_an_api_key_has_no_profile(api):
    owner = api.sign_up()
    status, key, _ = api.request("POST", "/v1/api-keys", {"name": "CRM"}, token=owner["token"])
    assert status == 201
    for method, path in (("GET", "/v1/me/profile"), ("GET", "/v1/me/sessions")):
        status, body, _ = api.request(method, path, token=key["key"])
        assert (status, body["error"]["code"]) == (403, "not_a_person")


def test_a_session_s_last_use_is_recorded_at_most_every_five_minutes(api, clock):
    owner = api.sign_up()
    first = api.request("GET", "/v1/me/sessions", token=owner["token"])[1]["sessions"][0]
    clock.advance(minutes=2)
    api.request("GET", "/v1/me", token=owner["token"])
    again = api.request("GET", "/v1/me/sessions", token=owner["token"])[1]["sessions"][0]
    assert again["last_used_at"] == first["last_used_at"]
    clock.advance(minutes=4)
    api.request("GET", "/v1/me", token=owner["token"])
    later = api.request("GET", "/v1/me/sessions", token=owner["token"])[1]["sessions"][0]
    assert later["last_used_at"] > first["last_used_at"]


def test_expired_sessions_are_not_listed(api, clock):
    owner = api.sign_up()
    _log_in(api)
    clock.advance(days=40)
    fresh = _log_in(api)
    sessions = api.request("GET", "/v1/me/sessions", token=fresh)[1]["sessions"]
    assert [s["current"] for s in sessions] == [True]
    assert api.request("GET", "/v1/me", token=owner["token"])[0] == 401


def test_mail_to_a_person_speaks_the_language_of_their_profile(api):
    owner = api.sign_up()
    api.request("PATCH", "/v1/me/profile", {"locale": "fr"}, token=owner["token"])
    status, _, _ = api.request(
        "POST", "/v1/auth/password-reset", {"email": "ann@acme.test", "locale": "en"}
    )
    assert status == 202
    mail = take_queued_mail("ann@acme.test", "password_reset")
    assert mail["subject"] == "Choisissez un nouveau mot de passe Helptal"
