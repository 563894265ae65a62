"""Helpers of the live-chat API tests: a workspace with its widget on, and a visitor."""

from __future__ import annotations

from typing import Any

ORIGIN = "https://www.acme.example"


def enable_chat(api: Any, owner: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """Turns the owner's widget on for ORIGIN; returns the settings answer."""
    status, body, _ = api.request(
        "PUT",
        "/v1/chat/settings",
        {"enabled": True, "allowed_origins": [ORIGIN], **settings},
        token=owner["token"],
    )
    assert status == 200, body
    return body


def visitor(
    api: Any,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    origin: str | None = ORIGIN,
) -> tuple[int, Any, dict[str, str]]:
    headers = {"Origin": origin} if origin else {}
    return api.request(method, path, body, token=token, headers=headers)


def start(api: Any, key: str, message: str = "Hello, is anyone there?", **fields: Any) -> Any:
    status, body, _ = visitor(
        api, "POST", f"/v1/chat/{key}/conversations", {"message": message, **fields}
    )
    assert status == 201, body
    return body
