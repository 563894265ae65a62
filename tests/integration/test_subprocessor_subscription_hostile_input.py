"""The subscription pages of the sub-processor change notices against hostile input: every
malformed, oversized or forged request gets a 4xx (never a 5xx) or the same neutral page, and
no answer tells whether an address is subscribed.  Each test tries its whole case table,
naming the failing case."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from chalicelib import bootstrap
from chalicelib.privacy.notice_ports import subscriber_key
from chalicelib.settings import get_settings
from tests.integration.conftest import drain_mail_queue, take_queued_mail

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SUBSCRIBE = "/legal/subprocessors/subscribe"
CONFIRM = "/legal/subprocessors/subscriptions/confirm/"
UNSUBSCRIBE = "/legal/subprocessors/subscriptions/unsubscribe/"
BOUNDARY = "----helptal-test"


def _multipart(fields: dict[str, str]) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode()


MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}

# (case, headers, body, the statuses it may answer)
SUBSCRIBE_CASES: list[tuple[str, dict[str, str], bytes | str, set[int]]] = [
    ("empty body", FORM, "", {422}),
    ("no address", FORM, "lang=fr", {422}),
    ("not an address", FORM, "email=not-an-address", {422}),
    ("header injection", FORM, "email=a%40b.test%0D%0ABcc%3A+x%40y.test", {422}),
    ("two addresses", FORM, "email=a%40b.test%2Cc%40d.test", {422}),
    ("nul byte", FORM, "email=a%00b%40c.test", {422}),
    ("address too long", FORM, urlencode({"email": "a" * 300 + "@x.test"}), {422}),
    ("html address", FORM, urlencode({"email": "<script>@x.test"}), {422}),
    ("invalid utf-8", FORM, b"email=%ff%fe%40x.test", {400}),
    ("json body", {"Content-Type": "application/json"}, '{"email": "a@b.test"}', {415}),
    ("text body", {"Content-Type": "text/plain"}, "email=a@b.test", {415}),
    ("multipart form", MULTIPART, _multipart({"email": "multi@b.test"}), {415}),
    ("huge body", FORM, "email=" + "a" * (11 * 1024 * 1024), {413}),
    ("repeated field", FORM, "email=first%40b.test&email=evil%40x.test", {200}),
    ("hostile language", FORM, urlencode({"email": "lang@b.test", "lang": "<b>x</b>"}), {200}),
    ("unknown fields", FORM, "email=extra%40b.test&lang[]=fr&submit=Go", {200}),
]

# (case, token in the path)
FORGED_TOKENS = [
    ("one char", "x"),
    ("two parts", "a.b"),
    ("another link's kind", "hti_not-a-real-invitation"),
    ("encoded traversal", "..%2F..%2Fetc%2Fpasswd"),
    ("accented", "%C3%A9t%C3%A9.%C3%A9t%C3%A9"),
    ("very long", "A" * 3000 + ".B"),
    ("html", "%3Cscript%3E.x"),
]


def _html_page(case: str, response) -> str:
    assert response.status_code < 500, (case, response.status_code, response.body)
    if response.status_code in (400, 413, 422, 429, 200, 404):
        assert response.headers["Content-Type"].startswith("text/html"), case
        assert "default-src 'none'" in response.headers["Content-Security-Policy"], case
        assert response.headers["Cache-Control"] == "no-store", case
    return response.body.decode()


def test_the_subscription_form_answers_every_hostile_request_with_a_4xx_or_its_page(api, clean_aws):
    for case, headers, body, statuses in SUBSCRIBE_CASES:
        response = api.client.http.post(SUBSCRIBE, headers=headers, body=body)
        assert response.status_code in statuses, (case, response.status_code, response.body)
        page = _html_page(case, response) if response.status_code != 415 else ""
        assert "<script>" not in page and "<b>x</b>" not in page, case
    # Only the valid forms asked for a subscription, each the first address it named.
    asked = sorted(m["to"][0] for m in map(_body, drain_mail_queue()))
    assert asked == ["extra@b.test", "first@b.test", "lang@b.test"]


def _body(message):
    import json

    return json.loads(message["Body"])


def test_forged_links_show_the_same_not_valid_page_and_change_nothing(api, clean_aws):
    for path in (CONFIRM, UNSUBSCRIBE):
        for case, token in FORGED_TOKENS:
            for method in ("get", "post"):
                response = getattr(api.client.http, method)(
                    path + token, headers=FORM, body="List-Unsubscribe=One-Click"
                )
                assert response.status_code == 404, (path, case, method, response.body)
                _html_page(case, response)
    # A link of one kind never works as the other; a JSON post is refused before anything.
    subscribe = api.client.http.post(SUBSCRIBE, headers=FORM, body="email=dpo%40example.com")
    assert subscribe.status_code == 200
    mail = take_queued_mail("dpo@example.com", "subprocessor_subscription")
    confirm_token = re.search(r"/confirm/([\w.-]+)", mail["text"]).group(1)
    unsubscribe_token = mail["headers"]["List-Unsubscribe"].rsplit("/", 1)[1].strip("<>")
    assert api.client.http.post(CONFIRM + unsubscribe_token, headers=FORM).status_code == 404
    assert api.client.http.get(UNSUBSCRIBE + confirm_token).status_code == 404
    refused = api.client.http.post(
        CONFIRM + confirm_token, headers={"Content-Type": "application/json"}, body="{}"
    )
    assert refused.status_code == 415
    subscriber = bootstrap.notice_subscribers().get(subscriber_key("dpo@example.com"))
    assert subscriber is not None and subscriber.status.value == "pending"


def test_the_answer_never_tells_whether_an_address_is_known(api, clean_aws):
    def ask(email: str):
        return api.client.http.post(
            SUBSCRIBE, headers=FORM, body=urlencode({"email": email, "lang": "en"})
        )

    ask("pending@example.com")
    ask("confirmed@example.com")
    mail = take_queued_mail("confirmed@example.com", "subprocessor_subscription")
    link = re.search(r"(/legal/subprocessors/subscriptions/confirm/[\w.-]+)", mail["text"])
    assert api.client.http.post(link.group(1), headers=FORM).status_code == 200
    answers = {
        kind: ask(email)
        for kind, email in (
            ("new", "new@example.com"),
            ("pending", "pending@example.com"),
            ("confirmed", "confirmed@example.com"),
        )
    }
    statuses = {kind: a.status_code for kind, a in answers.items()}
    bodies = {a.body for a in answers.values()}
    assert statuses == {"new": 200, "pending": 200, "confirmed": 200} and len(bodies) == 1


def test_a_visitor_asking_too_often_is_refused_for_an_hour(api, clean_aws):
    statuses = [
        api.client.http.post(
            SUBSCRIBE, headers=FORM, body=urlencode({"email": f"p{n}@example.com"})
        ).status_code
        for n in range(11)
    ]
    assert statuses == [200] * 10 + [429]
    refused = api.client.http.post(SUBSCRIBE, headers=FORM, body="email=late%40example.com")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"
    assert "Too many" in _html_page("limited", refused)
    assert get_settings().public_base_url  # the pages link to it
