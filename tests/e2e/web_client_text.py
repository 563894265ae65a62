"""What browser tests of the web client share: the app's own words in a language, waiting for
the local stack to get somewhere, and checking a screen (screenshot, axe, no sideways scroll)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.e2e.axe import assert_accessible

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"
T = TypeVar("T")


def app_words(language: str) -> Callable[..., str]:
    """The app's own message in `language` (plural forms chosen by `count`)."""
    messages = json.loads((WEBAPP / "i18n" / f"{language}.json").read_text(encoding="utf-8"))

    def word(message_id: str, **params: object) -> str:
        message = messages[message_id]
        if isinstance(message, dict):
            one = params.get("count") in (0, 1) if language == "fr" else params.get("count") == 1
            message = message["one" if one else "other"]
        return re.sub(r"\{(\w+)\}", lambda m: str(params.get(m.group(1), m.group(0))), message)

    return word


def until(check: Callable[[], T], timeout: float = 30.0, what: str = "the stack") -> T:
    """`check()`'s first truthy answer, asked every 0.3 s; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def screen_checked(page: Any, path: str, width: int, what: str) -> None:
    """A screenshot of the screen as it is, then axe-core, then no wider than `width`."""
    page.screenshot(path=path, full_page=True)
    assert_accessible(page, what)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, what
