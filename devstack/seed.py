"""Seed a demo workspace through the running API (the same path a new customer takes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

DEMO_WORKSPACE = "Demo Support"
DEMO_OWNER = "Demo Owner"
DEMO_EMAIL = "demo@helptal.test"
DEMO_PASSWORD = "demo-password-123"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    created: bool
    # Where customers mail the workspace, and its public help centre.
    inbound_address: str = ""
    help_centre_url: str = ""
    ai_enabled: bool = False
    # The workspace's public booking page (/book/<workspace slug>).
    booking_url: str = ""


def seed_demo_workspace(
    api_url: str,
    timeout: float = 10.0,
    *,
    ai: bool = False,
    chat_origins: list[str] | None = None,
) -> DemoLogin:
    """Log in to the demo workspace, or sign it up via `POST /v1/signup` and fill it (an
    emulator that kept its data already has it); with `ai`, turn AI on for it before its
    first ticket (only for the local stand-in model).  `chat_origins`: the pages allowed to
    show its chat widget (default: the API's own origin and the demo page's usual one)."""
    api_url = api_url.rstrip("/")
    response = requests.post(
        f"{api_url}/v1/auth/login",
        json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        timeout=timeout,
    )
    created = response.status_code != 200
    if created:
        response = requests.post(
            f"{api_url}/v1/signup",
            json={
                "workspace_name": DEMO_WORKSPACE,
                "name": DEMO_OWNER,
                "email": DEMO_EMAIL,
                "password": DEMO_PASSWORD,
            },
            timeout=timeout,
        )
        if response.status_code not in (200, 201):
            raise RuntimeError(f"seeding failed: {response.status_code} {response.text[:500]}")
    token = response.json()["token"]
    owner_id = str(response.json()["user"]["id"])
    if created:
        _seed_content(api_url, token, timeout, ai=ai)
    elif ai:
        _turn_ai_on(api_url, token, timeout)
    origins = chat_origins or [_origin(api_url), DEMO_PAGE_ORIGIN]
    _turn_chat_on(api_url, token, timeout, ai=ai, origins=origins)
    booking_url = seed_booking(api_url, token, owner_id, timeout)
    return DemoLogin(
        DEMO_EMAIL,
        DEMO_PASSWORD,
        created=created,
        inbound_address=str(_get(api_url, token, "/v1/mail/settings", timeout)["inbound_address"]),
        help_centre_url=str(_get(api_url, token, "/v1/kb/settings", timeout)["url"]),
        ai_enabled=ai,
        booking_url=booking_url,
    )


def _get(api_url: str, token: str, path: str, timeout: float) -> dict:
    response = requests.get(
        f"{api_url}{path}", timeout=timeout, headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code != 200:
        raise RuntimeError(f"seeding: GET {path} answered {response.status_code}")
    result: dict = response.json()
    return result


def _turn_ai_on(api_url: str, token: str, timeout: float) -> None:
    response = requests.put(
        f"{api_url}/v1/workspace/ai",
        json={"enabled": True},
        timeout=timeout,
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status_code != 200:
        raise RuntimeError(f"turning AI on failed: {response.status_code} {response.text[:300]}")


def _post(api_url: str, token: str, path: str, body: dict[str, object], timeout: float) -> dict:
    response = requests.post(
        f"{api_url}{path}", json=body, timeout=timeout, headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code != 201:
        raise RuntimeError(f"seeding {path} failed: {response.status_code} {response.text[:300]}")
    result: dict = response.json()
    return result


def _seed_content(api_url: str, token: str, timeout: float, *, ai: bool) -> None:
    """A category with an article in English and French, and a first ticket in the inbox
    (triaged by the local stand-in model when `ai`)."""
    category = _post(api_url, token, "/v1/kb/categories", {"name": "Getting started"}, timeout)
    english = _post(
        api_url,
        token,
        "/v1/kb/articles",
        {
            "title": "How to reset your password",
            "status": "published",
            "category_id": category["id"],
            "slug": "reset-password",
            "body": "1. Open the **login page**.\n2. Click *Forgot password*.\n"
            "3. Follow the link we e-mail you (it works for one hour).",
        },
        timeout,
    )
    _post(
        api_url,
        token,
        "/v1/kb/articles",
        {
            "title": "Réinitialiser ton mot de passe",
            "status": "published",
            "locale": "fr",
            "category_id": category["id"],
            "slug": "reinitialiser-mot-de-passe",
            "translation_of": english["id"],
            "body": "1. Ouvre la **page de connexion**.\n2. Clique sur *Mot de passe oublié*.\n"
            "3. Suis le lien reçu par e-mail (valable une heure).",
        },
        timeout,
    )
    if ai:
        _turn_ai_on(api_url, token, timeout)
    _post(
        api_url,
        token,
        "/v1/tickets",
        {
            "requester": {"email": "carla@customer.test", "name": "Carla Customer"},
            "subject": "I cannot log in",
            "body": "Hello, since this morning my password is refused. Can you help?",
            # The workspace's first tags: the vocabulary AI triage picks from.
            "tags": ["login", "password"],
        },
        timeout,
    )


def confirm_demo_owner(api_url: str, sent_mail_url: str, timeout: float = 30.0) -> bool:
    """Confirms the demo owner's address from the link in the mail the local Mailgun
    stand-in received (as the owner would), so that the demo workspace mails its customers.
    False when no such mail arrived in time (the workspace then waits, as any would)."""
    import re
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mail in requests.get(sent_mail_url, timeout=timeout).json():
            found = re.search(r"/account/confirm/(htl_[\w-]+)", " ".join(mail.get("text", [])))
            if DEMO_EMAIL in mail.get("to", []) and found:
                confirmed = requests.post(
                    f"{api_url.rstrip('/')}/account/confirm/{found.group(1)}",
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    timeout=timeout,
                )
                return confirmed.status_code == 200
        time.sleep(0.2)
    return False


# The demo host page's usual origin (a customer's site on another origin,
# devstack/demo_site.py); `make run` passes the one it really got.
DEMO_PAGE_ORIGIN = "http://localhost:8010"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _turn_chat_on(
    api_url: str, token: str, timeout: float, *, ai: bool, origins: list[str]
) -> None:
    """The demo workspace's chat widget on for `origins` (AI answers with `ai`)."""
    response = requests.put(
        f"{api_url}/v1/chat/settings",
        json={
            "enabled": True,
            "allowed_origins": origins,
            "team_name": DEMO_WORKSPACE,
            **({"ai_answers": True} if ai else {}),
        },
        timeout=timeout,
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status_code != 200:
        raise RuntimeError(f"turning chat on failed: {response.status_code} {response.text[:300]}")


# Booking: the demo owner's event types (on the default schedule: weekdays 09:00-17:00).
DEMO_EVENT_TYPES: list[dict[str, object]] = [
    {
        "slug": "product-demo",
        "title": "Product demo",
        "description": "A **30-minute** tour of Helptal on Zoom, with time for your questions.",
        "durations": [30],
        "location": {"kind": "zoom", "value": ""},
        "minimum_notice": 60,
        "questions": [
            {"id": "company", "label": "Your company", "kind": "text", "required": True},
            {
                "id": "team_size",
                "label": "How many people answer your customers?",
                "kind": "choice",
                "options": ["1-5", "6-20", "21-100", "More than 100"],
            },
        ],
        "reminders": [1440, 60],
    },
    {
        "slug": "onboarding-call",
        "title": "Onboarding call",
        "description": "45 minutes on Microsoft Teams to set up your mailboxes, help centre "
        "and chat. Each booking opens a ticket for our team.",
        "durations": [45],
        "location": {"kind": "teams", "value": ""},
        "opens_ticket": True,
        "questions": [
            {
                "id": "first_goal",
                "label": "What would you like to set up first?",
                "kind": "long_text",
            },
        ],
    },
]


class Http(Protocol):
    """The few calls of `requests` the booking seed makes (tests pass their own client)."""

    def get(self, url: str, *, headers: dict[str, str], timeout: float) -> Any: ...

    def post(
        self, url: str, *, json: dict[str, object], headers: dict[str, str], timeout: float
    ) -> Any: ...


def seed_booking(
    api_url: str, token: str, owner_id: str, timeout: float = 10.0, *, http: Http | None = None
) -> str:
    """The demo owner's public event types "Product demo" and "Onboarding call" (the ones the
    workspace lacks, by slug: a kept emulator's workspace gets them too); returns the
    workspace's public booking page, `<PUBLIC_BASE_URL>/book/<workspace slug>`."""
    client: Any = http or requests
    api_url = api_url.rstrip("/")
    auth = {"Authorization": f"Bearer {token}"}
    listed = client.get(f"{api_url}/v1/booking/event-types", headers=auth, timeout=timeout)
    if listed.status_code != 200:
        raise RuntimeError(f"seeding booking failed: {listed.status_code} {listed.text[:300]}")
    found = {e["slug"]: e for e in listed.json()["event_types"]}
    for template in DEMO_EVENT_TYPES:
        if template["slug"] in found:
            continue
        response = client.post(
            f"{api_url}/v1/booking/event-types",
            json={**template, "host_mode": "one", "host_ids": [owner_id], "time_zone": "UTC"},
            headers=auth,
            timeout=timeout,
        )
        if response.status_code != 201:
            raise RuntimeError(
                f"seeding {template['slug']} failed: {response.status_code} {response.text[:300]}"
            )
        found[str(template["slug"])] = response.json()
    # booking_url: <PUBLIC_BASE_URL>/book/<workspace slug>/<event type slug>
    return str(found[str(DEMO_EVENT_TYPES[0]["slug"])]["booking_url"]).rsplit("/", 1)[0]
