"""The local demo page that `make run` serves on http://localhost:8010: a customer's site that
embeds the chat widget from the local API, under a strict policy."""

from __future__ import annotations

from devstack.demo_site import demo_page, page_policy, snippet

API = "http://127.0.0.1:8000"
KEY = "pk_0123456789abcdefghijkl"


def test_the_demo_page_embeds_the_widget_of_the_demo_workspace_in_its_language():
    english = demo_page(API, KEY, "en")
    french = demo_page(API, KEY, "fr")
    tag = f'<script src="{API}/chat/widget.js" data-workspace="{KEY}" async></script>'
    assert tag in english and tag in french
    assert english.startswith('<!doctype html><html lang="en">')
    assert french.startswith('<!doctype html><html lang="fr">')
    assert snippet(API + "/", KEY) == tag


def test_without_chat_settings_the_demo_page_says_so_and_loads_no_script():
    page = demo_page(API, None, "en")
    assert "<script" not in page
    assert "no chat settings yet" in page


def test_the_demo_page_allows_scripts_and_calls_from_the_api_only():
    policy = page_policy(API + "/anything")
    assert "default-src 'none'" in policy
    assert f"script-src {API};" in policy
    assert f"connect-src {API};" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
