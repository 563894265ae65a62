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
    return DemoLogin(DEMO_EMAIL, DEMO_PASSWORD, created=True)
