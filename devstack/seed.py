"""Seed a demo workspace through the running API (the same path a new customer takes)."""

from __future__ import annotations

from dataclasses import dataclass

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


def seed_demo_workspace(api_url: str, timeout: float = 10.0) -> DemoLogin:
    """Sign up the demo workspace via `POST /v1/signup`; a 409 means it already exists."""
    response = requests.post(
        f"{api_url.rstrip('/')}/v1/signup",
        json={
            "workspace_name": DEMO_WORKSPACE,
            "name": DEMO_OWNER,
            "email": DEMO_EMAIL,
            "password": DEMO_PASSWORD,
        },
        timeout=timeout,
    )
    if response.status_code == 409:
        return DemoLogin(DEMO_EMAIL, DEMO_PASSWORD, created=False)
    if response.status_code not in (200, 201):
        raise RuntimeError(f"seeding failed: {response.status_code} {response.text[:500]}")
    _seed_content(api_url.rstrip("/"), response.json()["token"], timeout)
    return DemoLogin(DEMO_EMAIL, DEMO_PASSWORD, created=True)


def _post(api_url: str, token: str, path: str, body: dict[str, object], timeout: float) -> dict:
    response = requests.post(
        f"{api_url}{path}", json=body, timeout=timeout, headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code != 201:
        raise RuntimeError(f"seeding {path} failed: {response.status_code} {response.text[:300]}")
    result: dict = response.json()
    return result


def _seed_content(api_url: str, token: str, timeout: float) -> None:
    """A category with an article in English and French, and a first ticket in the inbox."""
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
    _post(
        api_url,
        token,
        "/v1/tickets",
        {
            "requester": {"email": "carla@customer.test", "name": "Carla Customer"},
            "subject": "I cannot log in",
            "body": "Hello, since this morning my password is refused. Can you help?",
        },
        timeout,
    )
