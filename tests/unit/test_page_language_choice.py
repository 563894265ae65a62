"""Which language a public page speaks: `?lang=`, then the browser's most wanted language the
product speaks, then the workspace's."""

from __future__ import annotations

import pytest

from chalicelib.web.i18n import pick_locale

CASES = [
    ("en", "fr", "fr", "en"),  # ?lang= wins
    (None, "fr-CA,fr;q=0.9,en;q=0.8", "en", "fr"),
    (None, "de,en;q=0.2,fr;q=0.9", "en", "fr"),  # the most wanted one we speak
    (None, "fr;q=0, en;q=0.5", "fr", "en"),  # q=0: not this one
    (None, "fr;q=0", "en", "en"),
    (None, "fr;q=abc", "en", "en"),  # a broken weight counts as refused
    (None, "en;q=nan,fr", "en", "fr"),
    (None, "", "fr", "fr"),  # nothing asked: the workspace's
    (None, "*", "fr", "fr"),
    (None, "x" * 5000, "xx", "en"),  # nothing we speak, and no language of ours by default
]


@pytest.mark.parametrize(("requested", "accept_language", "default", "expected"), CASES)
def test_a_page_speaks_the_language_asked_for_most(requested, accept_language, default, expected):
    assert pick_locale(requested, accept_language, default) == expected
