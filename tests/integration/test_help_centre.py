"""The public help centre: only published articles, on /hc/<slug> and on a verified domain."""

import json
import re

import pytest

from app import app
from devstack.pump import EventPump

HTML_HEADERS = {"Accept": "text/html"}


@pytest.fixture()
def kb(api, clean_aws):
    owner = api.sign_up(workspace="Acme Support")
    token = owner["token"]

    def article(title, body, status="published", locale="en", **extra):
        status_code, created, _ = api.request(
            "POST",
            "/v1/kb/articles",
            {"title": title, "body": body, "status": status, "locale": locale, **extra},
            token=token,
        )
        assert status_code == 201, created
        return created

    category = api.request("POST", "/v1/kb/categories", {"name": "Billing & Plans"}, token=token)[1]
    refunds = article(
        "How refunds work",
        "Refunds arrive **within 5 days**. <script>x</script>",
        category_id=category["id"],
        slug="refunds",
    )
    french = article(
        "Comment fonctionnent les remboursements",
        "Les remboursements arrivent sous 5 jours.",
        locale="fr",
        translation_of=refunds["id"],
        category_id=category["id"],
        slug="remboursements",
    )
    draft = article("Secret roadmap", "Next year we launch rockets.", status="draft")
    internal = article(
        "Escalation policy", "Call the on-call engineer for outages.", status="internal"
    )
    pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
    [indexer] = [q for q in pump.queues if q.name == "search_indexer"]

    def index():
        while pump.poll_queue(indexer).received:
            pass

    index()
    return {
        "owner": owner,
        "token": token,
        "category": category,
        "refunds": refunds,
        "french": french,
        "draft": draft,
        "internal": internal,
        "index": index,
        "article": article,
    }


def _get(api, path, **headers):
    response = api.client.http.get(path, headers={**HTML_HEADERS, **headers})
    return response.status_code, response.body.decode(), response.headers


def test_home_lists_published_articles_by_category(api, kb):
    status, html, headers = _get(api, "/hc/acme-support")
    assert status == 200 and '<html lang="en">' in html
    assert "Billing &amp; Plans" in html and "How refunds work" in html
    assert "Secret roadmap" not in html and "Escalation policy" not in html
    assert headers["Cache-Control"].startswith("public") and headers["ETag"]


def test_articles_in_no_category_are_on_the_home_page_too(api, kb):
    kb["article"]("Contact us", "Write to us any time.")
    kb["article"]("Nous contacter", "Écrivez-nous.", locale="fr")
    html = _get(api, "/hc/acme-support")[1]
    assert html.index("Billing &amp; Plans") < html.index("Other articles")
    assert html.index("Other articles") < html.index(">Contact us</a></li>")
    assert "Nous contacter" not in html
    french = _get(api, "/hc/acme-support?lang=fr")[1]
    assert "Autres articles" in french and "Nous contacter" in french


def test_article_page_is_sanitised_and_well_described(api, kb):
    status, html, _ = _get(api, "/hc/acme-support/en/articles/refunds")
    assert status == 200
    assert "<strong>within 5 days</strong>" in html and "<script" not in html
    assert '<meta name="description" content="Refunds arrive within 5 days.' in html
    assert (
        '<link rel="canonical" href="https://api.helptal.test/hc/acme-support/en/articles/refunds">'
        in html
    )
    assert (
        'hreflang="fr" href="https://api.helptal.test/hc/acme-support/fr/articles/remboursements"'
        in html
    )
    status, html, _ = _get(api, "/hc/acme-support/fr/articles/remboursements")
    assert status == 200 and '<html lang="fr">' in html and "Rechercher" in html


def test_drafts_internal_and_unknown_articles_are_branded_404s(api, kb):
    for path in (
        "/hc/acme-support/en/articles/" + kb["draft"]["slug"],
        "/hc/acme-support/en/articles/" + kb["internal"]["slug"],
        "/hc/acme-support/en/articles/nothing-here",
        "/hc/acme-support/de/articles/refunds",
    ):
        status, html, headers = _get(api, path)
        assert status == 404, path
        assert "Acme Support" in html and "noindex" in html
        assert headers["Cache-Control"] == "no-store"
    status, html, _ = _get(api, "/hc/no-such-workspace")
    assert status == 404 and "Acme" not in html


def test_an_unknown_help_centre_is_a_branded_404_in_both_languages(api, kb):
    status, html, headers = _get(api, "/hc/no-such-workspace", **{"Accept-Language": "fr"})
    assert status == 404 and '<html lang="fr">' in html
    assert html.index("Ce centre d&#39;aide n&#39;existe pas.") < html.index(
        "This help centre does not exist."
    )
    assert "Helptal" in html and '<meta name="robots" content="noindex">' in html
    assert headers["Content-Security-Policy"].startswith("default-src 'none'; style-src 'sha256-")
    assert headers["Cache-Control"] == "no-store"
    status, html, _ = _get(api, "/hc/no-such-workspace/en/articles/refunds")
    assert status == 404 and html.index("This help centre") < html.index("Ce centre")


def test_titles_name_the_centre_once(api, kb):
    assert "<title>Acme Support</title>" in _get(api, "/hc/acme-support")[1]
    assert "<title>Acme Support</title>" in _get(api, "/hc/acme-support/search")[1]
    html = _get(api, "/hc/acme-support/en/articles/refunds")[1]
    assert "<title>How refunds work · Acme Support</title>" in html


def _switcher(html):
    nav = re.search(r'<nav class="lang"[^>]*>(.*?)</nav>', html).group(1)
    return re.findall(r'<a href="([^"]+)" hreflang="(\w+)"', nav), re.findall(
        r'<span aria-current="true" lang="(\w+)"', nav
    )


def test_every_page_has_a_language_switcher_to_the_same_page_in_the_other_language(api, kb):
    base = "https://api.helptal.test/hc/acme-support"
    pages = {
        "/hc/acme-support": [(f"{base}/?lang=fr", "fr")],
        "/hc/acme-support/en/articles/refunds": [(f"{base}/fr/articles/remboursements", "fr")],
        "/hc/acme-support/fr/articles/remboursements": [(f"{base}/en/articles/refunds", "en")],
        "/hc/acme-support/en/categories/billing-plans": [
            (f"{base}/fr/categories/billing-plans", "fr")
        ],
        "/hc/acme-support/search?q=refund+d%C3%A9lai&lang=en": [
            (f"{base}/search?q=refund+d%C3%A9lai&amp;lang=fr", "fr")
        ],
        "/hc/acme-support/en/articles/nothing-here": [(f"{base}/?lang=fr", "fr")],
    }
    for path, links in pages.items():
        found, current = _switcher(_get(api, path)[1])
        assert found == links, path
        assert current == ["fr" if "/fr/" in path else "en"], path
    # An article without a translation leads to the other language's home.
    kb["article"]("Only in English", "Nothing in French.", slug="english-only")
    found, _ = _switcher(_get(api, "/hc/acme-support/en/articles/english-only")[1])
    assert found == [(f"{base}/?lang=fr", "fr")]


def test_dates_are_written_in_the_page_language(api, kb):
    from datetime import UTC, datetime

    today = datetime.now(UTC).date()
    _, english, _ = _get(api, "/hc/acme-support/en/articles/refunds")
    _, french, _ = _get(api, "/hc/acme-support/fr/articles/remboursements")
    months_fr = "janvier février mars avril mai juin juillet août septembre octobre novembre"
    months_fr = (months_fr + " décembre").split()
    assert f">{today.day} {today.strftime('%B')} {today.year}</time>" in english
    day_fr = "1er" if today.day == 1 else str(today.day)
    assert f">{day_fr} {months_fr[today.month - 1]} {today.year}</time>" in french


def test_pages_carry_a_favicon_the_logo_and_footer_links(api, kb):
    html = _get(api, "/hc/acme-support/en/articles/refunds")[1]
    assert '<link rel="icon" href="https://api.helptal.test/hc/acme-support/favicon.svg">' in html
    assert "<footer>" in html and "Powered by Helptal" in html
    status, svg, headers = _get(api, "/hc/acme-support/favicon.svg")
    assert status == 200 and headers["Content-Type"] == "image/svg+xml"
    assert ">A</text>" in svg and 'fill="#3553d6"' in svg
    logo = "https://cdn.acme.test/logo.png"
    status, _, _ = api.request("PUT", "/v1/kb/settings", {"logo_url": logo}, token=kb["token"])
    assert status == 200
    html = _get(api, "/hc/acme-support?lang=fr")[1]
    assert f'<link rel="icon" href="{logo}">' in html and f'<img src="{logo}" alt="">' in html


def test_another_workspace_slug_never_shows_these_articles(api, kb):
    api.sign_up(workspace="Globex", email="gus@globex.test")
    status, html, _ = _get(api, "/hc/globex/en/articles/refunds")
    assert status == 404 and "refund" not in html.lower()
    assert "How refunds work" not in _get(api, "/hc/globex")[1]


def test_an_old_slug_redirects_to_the_new_one(api, kb):
    api.request(
        "PATCH",
        f"/v1/kb/articles/{kb['refunds']['id']}",
        {"slug": "refund-policy"},
        token=kb["token"],
    )
    status, _, headers = _get(api, "/hc/acme-support/en/articles/refunds")
    assert status == 301
    assert headers["Location"].endswith("/hc/acme-support/en/articles/refund-policy")


def test_etag_lets_the_cdn_revalidate(api, kb):
    _, _, headers = _get(api, "/hc/acme-support/en/articles/refunds")
    status, _, _ = _get(
        api, "/hc/acme-support/en/articles/refunds", **{"If-None-Match": headers["ETag"]}
    )
    assert status == 304
    # The language may come from Accept-Language: caches keep one copy per language.
    assert headers["Vary"] == "Accept-Language"


def test_category_page_and_sitemap(api, kb):
    status, html, _ = _get(api, "/hc/acme-support/en/categories/billing-plans")
    assert status == 200 and "How refunds work" in html
    status, xml, headers = _get(api, "/hc/acme-support/sitemap.xml")
    assert status == 200 and headers["Content-Type"] == "application/xml"
    assert "/en/articles/refunds</loc>" in xml and 'hreflang="fr"' in xml
    assert "Secret" not in xml and kb["internal"]["slug"] not in xml


def test_feedback_counts_once_per_visitor(api, kb):

    path = "/hc/acme-support/en/articles/refunds/feedback"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    first = api.client.http.post(path, headers=form, body="helpful=yes")
    assert first.status_code == 303 and first.headers["Location"].endswith("?thanks=1")
    api.client.http.post(path, headers=form, body="helpful=yes")
    detail = api.request("GET", f"/v1/kb/articles/{kb['refunds']['id']}", token=kb["token"])[1]
    assert detail["feedback"] == {"helpful": 1, "not_helpful": 0}  # what agents see
    _, html, _ = _get(api, "/hc/acme-support/en/articles/refunds?thanks=1")
    assert "Thanks for your feedback!" in html
    bad = api.client.http.post(path, headers=form, body="helpful=maybe")
    assert bad.status_code == 422


def test_french_pages_show_the_category_in_french_and_fall_back_to_its_name(api, kb):
    _, html, _ = _get(api, "/hc/acme-support/fr/articles/remboursements")
    assert "Billing &amp; Plans" in html  # not translated yet: the category's own name
    api.request(
        "PATCH",
        f"/v1/kb/categories/{kb['category']['id']}",
        {"translations": {"fr": {"name": "Facturation", "description": "Paiements"}}},
        token=kb["token"],
    )
    status, html, _ = _get(api, "/hc/acme-support?lang=fr")
    assert status == 200 and "Facturation" in html and "Paiements" in html
    assert "/fr/categories/facturation" in html and "Billing" not in html
    status, html, _ = _get(api, "/hc/acme-support/fr/categories/facturation")
    assert status == 200 and "<h1>Facturation</h1>" in html
    assert "Comment fonctionnent les remboursements" in html
    assert 'hreflang="en" lang="en">English</a>' in html  # the switcher: to the English page
    assert '/hc/acme-support/en/categories/billing-plans" hreflang="en"' in html
    _, html, _ = _get(api, "/hc/acme-support/fr/articles/remboursements")
    assert "Facturation" in html and "Billing" not in html
    _, html, _ = _get(api, "/hc/acme-support/en/categories/billing-plans")
    assert "Billing &amp; Plans" in html and "How refunds work" in html
    # A French link made before the translation still opens the category.
    assert _get(api, "/hc/acme-support/fr/categories/billing-plans")[0] == 200


def test_public_search_finds_published_articles_only(api, kb):
    status, body, _ = _get(api, "/hc/acme-support/api/search?q=refunds")
    hits = json.loads(body)["hits"]
    assert [h["title"] for h in hits][:1] == ["How refunds work"]
    assert "<mark>" in hits[0]["passage"]
    assert (
        json.loads(_get(api, "/hc/acme-support/api/search?q=escalation%20outages")[1])["hits"] == []
    )
    assert json.loads(_get(api, "/hc/acme-support/api/search?q=rockets")[1])["hits"] == []
    status, html, _ = _get(api, "/hc/acme-support/search?q=refunds")
    assert status == 200 and "How refunds work" in html
    assert '<meta name="robots" content="noindex">' in html  # results echo any query
    status, html, _ = _get(api, "/hc/acme-support/en/articles/refunds")
    assert '<meta name="robots"' not in html


def test_agents_search_internal_articles_and_see_content_gaps(api, kb):
    status, body, _ = api.request("GET", "/v1/kb/search?q=outages", token=kb["token"])
    assert status == 200 and [h["title"] for h in body["hits"]] == ["Escalation policy"]
    api.request("GET", "/v1/kb/search?q=teleport%20device", token=kb["token"])
    api.request("GET", "/v1/kb/search?q=teleport%20device", token=kb["token"])
    gaps = api.request("GET", "/v1/kb/search-insights", token=kb["token"])[1]
    assert gaps["failed_queries"][0]["query"] == "teleport device"
    assert gaps["failed_queries"][0]["searches"] == 2


def test_agents_search_links_internal_articles_to_the_agent_app_not_a_public_404(api, kb):
    hits = api.request("GET", "/v1/kb/search?q=outages", token=kb["token"])[1]["hits"]
    assert [(h["url"], h["internal"]) for h in hits] == [
        (f"https://app.helptal.test/kb/articles/{kb['internal']['id']}", True)
    ]
    hits = api.request("GET", "/v1/kb/search?q=refunds", token=kb["token"])[1]["hits"]
    public = next(h for h in hits if h["title"] == "How refunds work")
    assert public["internal"] is False
    assert public["url"].endswith("/hc/acme-support/en/articles/refunds")
    path = public["url"][public["url"].index("/hc/") :]
    assert _get(api, path)[0] == 200


def test_the_index_follows_publish_and_unpublish(api, kb):
    new = kb["article"]("Pairing a printer", "Hold the pairing button.", slug="pairing")
    kb["index"]()
    hits = json.loads(_get(api, "/hc/acme-support/api/search?q=pairing")[1])["hits"]
    assert [h["article_id"] for h in hits] == [new["id"]]
    api.request("PATCH", f"/v1/kb/articles/{new['id']}", {"status": "draft"}, token=kb["token"])
    kb["index"]()
    assert json.loads(_get(api, "/hc/acme-support/api/search?q=pairing")[1])["hits"] == []


def test_custom_domain_serves_the_help_centre_once_verified(api, kb, monkeypatch):
    from chalicelib import bootstrap
    from chalicelib.kb.domains import instruction

    status, settings, _ = api.request(
        "PUT",
        "/v1/kb/settings",
        {"custom_domain": "Help.Acme.test", "brand_color": "#112233", "name": "Acme Help"},
        token=kb["token"],
    )
    assert status == 200 and settings["custom_domain"] == "help.acme.test"
    assert settings["domain_verified"] is False
    record = settings["dns_record"]
    assert _get(api, "/", Host="help.acme.test")[0] == 404  # not verified yet

    class Resolver:
        def __init__(self, records):
            self.records = records

        def txt_records(self, name):
            return self.records.get(name, [])

    monkeypatch.setattr(bootstrap, "dns_resolver", lambda: Resolver({}))
    status, body, _ = api.request("POST", "/v1/kb/settings/verify-domain", token=kb["token"])
    assert (status, body["error"]["code"]) == (409, "domain_not_verified")
    monkeypatch.setattr(
        bootstrap, "dns_resolver", lambda: Resolver({record["name"]: [record["value"]]})
    )
    status, body, _ = api.request("POST", "/v1/kb/settings/verify-domain", token=kb["token"])
    assert status == 200 and body["url"] == "https://help.acme.test"
    status, html, _ = _get(api, "/", Host="help.acme.test")
    assert status == 200 and "Acme Help" in html and "#112233" in html
    status, html, _ = _get(api, "/en/articles/refunds", Host="help.acme.test")
    assert status == 200 and "https://help.acme.test/en/articles/refunds" in html
    assert _get(api, "/robots.txt", Host="help.acme.test")[1].endswith(
        "Sitemap: https://help.acme.test/sitemap.xml\n"
    )
    assert _get(api, "/en/articles/refunds", Host="help.evil.test")[0] == 404
    # Links are made of the verified name only: a crafted Host or scheme reaches none.
    assert _get(api, "/en/articles/refunds", Host="help.acme.test:@evil.test")[0] == 404
    status, html, _ = _get(
        api,
        "/en/articles/refunds",
        Host="help.acme.test:8443",
        **{"X-Forwarded-Proto": "javascript"},
    )
    assert status == 200 and "https://help.acme.test:8443/en/articles/refunds" in html
    assert "javascript" not in html
    other = api.sign_up(workspace="Globex", email="gus@globex.test")
    api.request("PUT", "/v1/kb/settings", {"custom_domain": "help.acme.test"}, token=other["token"])
    monkeypatch.setattr(
        bootstrap,
        "dns_resolver",
        lambda: Resolver(
            {
                instruction(
                    "test-domain-verification-secret", other["workspace"]["id"], "help.acme.test"
                ).record_name: [
                    instruction(
                        "test-domain-verification-secret",
                        other["workspace"]["id"],
                        "help.acme.test",
                    ).record_value
                ]
            }
        ),
    )
    status, body, _ = api.request("POST", "/v1/kb/settings/verify-domain", token=other["token"])
    assert (status, body["error"]["code"]) == (409, "domain_taken")
    assert re.search("Acme Help", _get(api, "/", Host="help.acme.test")[1])


def test_bad_settings_are_refused(api, kb):
    for body, field in [
        ({"brand_color": "red"}, "brand_color"),
        ({"custom_domain": "https://x.test/y"}, "custom_domain"),
        ({"logo_url": "javascript:alert(1)"}, "logo_url"),
    ]:
        status, answer, _ = api.request("PUT", "/v1/kb/settings", body, token=kb["token"])
        assert status == 422, body
        assert answer["error"]["details"][0]["field"] == field


def test_robots_on_the_public_host_allow_help_centres_and_keep_the_api_out(api, kb):
    status, body, _ = _get(api, "/robots.txt", Host="api.helptal.test")
    assert status == 200
    assert "Allow: /hc/" in body and "Disallow: /v1/" in body and "Disallow: /join/" in body
