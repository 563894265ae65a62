"""The demo workspace of `make run` gets its booking event types (devstack/seed.py), seeded
through the API on the emulator: both are public, offer slots, and seeding again adds none."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from devstack.seed import seed_booking

API_URL = "http://127.0.0.1:8000"


@dataclass
class Answer:
    status_code: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class ClientHttp:
    """The seed's `requests` calls, served by the Chalice test client."""

    def __init__(self, api: Any) -> None:
        self.http = api.client.http

    def get(self, url: str, *, headers: dict[str, str], timeout: float) -> Answer:
        return self._answer(self.http.get(urlsplit(url).path, headers=headers))

    def post(
        self, url: str, *, json: dict[str, object], headers: dict[str, str], timeout: float
    ) -> Answer:
        sent = {**headers, "Content-Type": "application/json"}
        return self._answer(self.http.post(urlsplit(url).path, headers=sent, body=_dumps(json)))

    @staticmethod
    def _answer(response: Any) -> Answer:
        return Answer(response.status_code, response.body.decode())


def _dumps(value: object) -> str:
    return json.dumps(value)


def _seed(api: Any) -> tuple[dict[str, Any], str]:
    owner = api.sign_up(workspace="Demo Support", email="demo@helptal.test", confirm=False)
    url = seed_booking(API_URL, owner["token"], owner["user"]["id"], http=ClientHttp(api))
    return owner, url


def test_the_demo_workspace_offers_a_product_demo_and_an_onboarding_call(api: Any) -> None:
    owner, url = _seed(api)

    slug = owner["workspace"]["slug"]
    assert url == f"https://api.helptal.test/book/{slug}"
    status, page, _ = api.request("GET", f"/v1/booking/{slug}")
    assert status == 200, page
    assert [e["title"] for e in page["event_types"]] == ["Onboarding call", "Product demo"]
    _, listed, _ = api.request("GET", "/v1/booking/event-types", token=owner["token"])
    by_slug = {e["slug"]: e for e in listed["event_types"]}
    demo, onboarding = by_slug["product-demo"], by_slug["onboarding-call"]
    assert (demo["durations"], demo["location"]["kind"]) == ([30], "zoom")
    assert [q["id"] for q in demo["questions"]] == ["company", "team_size"]
    assert demo["reminders"] == [1440, 60] and demo["public"] and demo["active"]
    assert (onboarding["durations"], onboarding["location"]["kind"]) == ([45], "teams")
    assert onboarding["opens_ticket"] is True
    assert demo["host_ids"] == onboarding["host_ids"] == [owner["user"]["id"]]


def test_the_seeded_event_types_answer_slots_on_the_default_schedule(api: Any) -> None:
    owner, _ = _seed(api)
    slug = owner["workspace"]["slug"]
    start = datetime.now(UTC).date() + timedelta(days=1)
    window = f"from={start.isoformat()}&to={(start + timedelta(days=13)).isoformat()}"

    for event_type, minutes in (("product-demo", 30), ("onboarding-call", 45)):
        status, body, _ = api.request(
            "GET", f"/v1/booking/{slug}/{event_type}/slots?{window}&time_zone=UTC"
        )
        assert status == 200, body
        assert body["slots"], event_type
        first = body["slots"][0]
        begins = datetime.fromisoformat(first["start"].replace("Z", "+00:00"))
        ends = datetime.fromisoformat(first["end"].replace("Z", "+00:00"))
        assert ends - begins == timedelta(minutes=minutes)
        assert begins.weekday() < 5 and 9 <= begins.hour < 17


def test_seeding_the_demo_workspace_again_adds_no_event_type(api: Any) -> None:
    owner, url = _seed(api)

    again = seed_booking(API_URL, owner["token"], owner["user"]["id"], http=ClientHttp(api))

    _, listed, _ = api.request("GET", "/v1/booking/event-types", token=owner["token"])
    assert again == url
    assert sorted(e["slug"] for e in listed["event_types"]) == ["onboarding-call", "product-demo"]
