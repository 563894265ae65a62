"""Every HTML page the product serves sends a strict Content-Security-Policy: nothing runs,
styles are only the page's own (by hash), forms post only to the site, no framing by others."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from chalicelib.api.routing import HTML, OPERATIONS

HTML_HEADERS = {"Accept": "text/html"}


def _directives(policy: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            found[words[0]] = words[1:]
    return found


# The API reference (Swagger UI) is the one page that runs script: files from the site only.
SCRIPTED_PAGES = {"/docs"}


def _assert_strict(path: str, status: int, body: str, headers: dict[str, str]) -> None:
    policy = headers.get("Content-Security-Policy")
    assert policy, f"{path} ({status}) sends no Content-Security-Policy"
    directives = _directives(policy)
    assert directives["default-src"] == ["'none'"], (path, policy)
    assert directives["base-uri"] == ["'none'"], (path, policy)
    assert directives["form-action"] == ["'self'"], (path, policy)
    assert directives["frame-ancestors"] in (["'none'"], ["'self'"]), (path, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (path, policy)
    if path in SCRIPTED_PAGES:
        assert directives["script-src"] == ["'self'"], (path, policy)
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", body, re.DOTALL | re.IGNORECASE)
        assert scripts, path
        for attributes, inline in scripts:
            assert re.search(r'\ssrc="[a-z][\w./-]*"', attributes), (path, attributes)
            assert not inline.strip(), f"{path} has an inline script"
    else:
        assert "script-src" not in directives, (path, policy)
        assert "<script" not in body.lower(), path
    assert not re.search(r"\sstyle=", body), f"{path} has an inline style attribute"
    for css in re.findall(r"<style>(.*?)</style>", body, re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in directives.get("style-src", []), (path, policy)


@pytest.fixture()
def site(api, clean_aws):
    owner = api.sign_up(workspace="Acme Support")
    token = owner["token"]
    category = api.request("POST", "/v1/kb/categories", {"name": "Billing"}, token=token)[1]
    created = api.request(
        "POST",
        "/v1/kb/articles",
        {
            "title": "How refunds work",
            "body": "Refunds arrive **within 5 days**.\n\n![chart](https://cdn.acme.test/c.png)",
            "status": "published",
            "category_id": category["id"],
            "slug": "refunds",
        },
        token=token,
    )
    assert created[0] == 201, created
    status, _, _ = api.request("PUT", "/v1/kb/settings", {"brand_color": "#0b7a75"}, token=token)
    assert status == 200
    return {"slug": owner["workspace"]["slug"], "category": category}


def test_every_html_page_sends_a_strict_policy(api, site):
    import app  # noqa: F401  (registers every operation)

    values = {
        "workspace_slug": site["slug"],
        "locale": "en",
        "category_slug": "billing",
        "article_slug": "refunds",
        "token": "hti_not-a-real-invitation",
        "link_token": "htl_not-a-real-link",
        "booking_slug": site["slug"],
        "event_slug": "no-such-event-type",
        "manage_token": "not-a-real-manage-token",
    }
    pages = [op for op in OPERATIONS if op.produces == HTML and op.method == "GET"]
    assert {op.path for op in pages} >= {
        "/docs",
        "/join/{token}",
        "/account/confirm/{link_token}",
        "/account/reset-password/{link_token}",
        "/hc/{workspace_slug}",
        "/hc/{workspace_slug}/{locale}/articles/{article_slug}",
    }
    checked = []
    for op in pages:
        path = re.sub(r"\{([a-z_]+)\}", lambda m: values[m.group(1)], op.path)
        response = api.client.http.get(path, headers=HTML_HEADERS)
        if not response.headers.get("Content-Type", "").startswith("text/html"):
            continue  # sitemap.xml
        body = response.body.decode()
        _assert_strict(path, response.status_code, body, response.headers)
        checked.append((path, response.status_code))
    # The help centre's own pages answer 200 (the domain ones: 404, an unknown host).
    assert ("/hc/" + site["slug"], 200) in checked
    assert (f"/hc/{site['slug']}/en/articles/refunds", 200) in checked


def test_help_centre_policy_allows_its_brand_style_and_article_images(api, site):
    response = api.client.http.get(f"/hc/{site['slug']}/en/articles/refunds", headers=HTML_HEADERS)
    body = response.body.decode()
    assert "--brand: #0b7a75" in body
    assert 'src="https://cdn.acme.test/c.png"' in body
    directives = _directives(response.headers["Content-Security-Policy"])
    assert directives["img-src"] == ["'self'", "https:"]
    assert directives["frame-ancestors"] == ["'self'"]
    _assert_strict("article", 200, body, response.headers)
    again = api.client.http.get(
        f"/hc/{site['slug']}/en/articles/refunds",
        headers={**HTML_HEADERS, "If-None-Match": response.headers["ETag"]},
    )
    # A 304 replaces the cached page's headers: it carries the same policy.
    assert again.status_code == 304
    assert again.headers["Content-Security-Policy"] == response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path",
    ["/hc/no-such-help-centre", "/join/hti_not-a-real-invitation", "/docs"],
)
def test_error_and_reference_pages_send_the_policy(api, path):
    response = api.client.http.get(path, headers=HTML_HEADERS)
    _assert_strict(path, response.status_code, response.body.decode(), response.headers)


def test_account_link_pages_send_the_policy(api, clean_aws):
    from tests.integration.conftest import confirmation_link

    api.sign_up(workspace="Link Desk", email="lia@links.test", confirm=False)
    path = f"/account/confirm/{confirmation_link('lia@links.test')}"
    response = api.client.http.get(path, headers=HTML_HEADERS)
    assert response.status_code == 200
    _assert_strict(path, 200, response.body.decode(), response.headers)
