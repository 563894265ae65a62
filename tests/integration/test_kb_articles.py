"""Knowledge-base articles for agents: writing, publishing, versions, slugs, translations,
categories, image uploads, safe Markdown, roles and workspaces."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from html.parser import HTMLParser

import pytest
import requests

from chalicelib.settings import get_settings
from tests.integration.conftest import accept_invitation, drain_mail_queue, invite


def _article(api, token, title="Reset your password", **extra):
    status, body, _ = api.request(
        "POST",
        "/v1/kb/articles",
        {"title": title, "body": "Open **Settings**, then *Security*.", **extra},
        token=token,
    )
    assert status == 201, body
    return body


def _patch(api, token, article_id, **changes):
    return api.request("PATCH", f"/v1/kb/articles/{article_id}", changes, token=token)


def _events(aws):
    """Every event on the events queue (taken off it), as the search side would see them."""
    sqs = aws.client("sqs")
    url = aws.queue_urls["events"]
    taken = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
        "Messages", []
    ):
        for message in batch:
            taken.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [(e["type"], e["article_id"], e["locale"]) for e in taken if e["type"][:8] == "article."]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


def _unsafe_parts(html: str) -> list[str]:
    """What a browser could run in `html`: script-like elements, event handlers, links and
    images that are not http(s), mailto or relative."""
    reader = _Elements()
    reader.feed(html)
    unsafe = []
    for tag, attrs in reader.found:
        if tag in ("script", "iframe", "object", "embed", "style", "form", "svg"):
            unsafe.append(tag)
        for name, value in attrs:
            target = (value or "").strip().lower()
            if name.startswith("on") or name == "style":
                unsafe.append(f"{tag} {name}")
            elif name in ("href", "src") and not (
                target.startswith(("http://", "https://", "mailto:", "#"))
                or (target.startswith("/") and not target.startswith("//"))
            ):
                unsafe.append(f"{tag} {name}={value}")
    return unsafe


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


@pytest.fixture()
def team(api):
    owner = api.sign_up()
    agent = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    drain_mail_queue()
    return owner, agent


# -- writing and reading -------------------------------------------------------------------


def test_new_article_is_a_draft_with_a_slug_from_its_title_and_rendered_html(api, team):
    owner, _ = team
    article = _article(api, owner["token"], title="Réinitialiser le mot de passe", locale="fr")
    assert (article["status"], article["locale"], article["version"]) == ("draft", "fr", 1)
    assert article["slug"] == "reinitialiser-le-mot-de-passe"
    assert article["html"] == "<p>Open <strong>Settings</strong>, then <em>Security</em>.</p>\n"
    assert article["author"] == f"user:{owner['user']['id']}"
    status, read, _ = api.request("GET", f"/v1/kb/articles/{article['id']}", token=owner["token"])
    assert status == 200
    assert read["body"] == "Open **Settings**, then *Security*."
    assert read["translations"] == []


def test_the_editors_preview_is_the_help_centre_rendering_and_saves_nothing(api, team):
    owner, agent = team
    markdown = "| Plan | Price |\n|---|---:|\n| Pro | 20 |\n\n<script>x()</script> ~~old~~"
    status, preview, _ = api.request(
        "POST", "/v1/kb/preview", {"body": markdown}, token=agent["token"]
    )
    assert status == 200
    saved = _article(api, owner["token"], title="Plans", body=markdown)
    assert preview["html"] == saved["html"]
    assert "<table>" in preview["html"] and "<s>old</s>" in preview["html"]
    assert "<script" not in preview["html"]
    listed = api.request("GET", "/v1/kb/articles", token=owner["token"])[1]["articles"]
    assert [a["title"] for a in listed] == ["Plans"]  # the preview kept nothing
    assert api.request("POST", "/v1/kb/preview", {"body": markdown})[0] == 401
    assert api.request("POST", "/v1/kb/preview", {"text": "x"}, token=agent["token"])[0] == 422


def test_articles_list_by_status_and_locale_newest_update_first(api, team):
    owner, _ = team
    token = owner["token"]
    first = _article(api, token, title="First", status="published")
    second = _article(api, token, title="Second", status="published")
    _article(api, token, title="Draft one")
    _article(api, token, title="Premier", status="published", locale="fr")
    published = api.request("GET", "/v1/kb/articles?status=published&locale=en", token=token)[1]
    assert [a["id"] for a in published["articles"]] == [second["id"], first["id"]]
    _patch(api, token, first["id"], body="Edited.")
    published = api.request("GET", "/v1/kb/articles?status=published&locale=en", token=token)[1]
    assert [a["id"] for a in published["articles"]] == [first["id"], second["id"]]
    french = api.request("GET", "/v1/kb/articles?locale=fr", token=token)[1]["articles"]
    assert [a["title"] for a in french] == ["Premier"]
    drafts = api.request("GET", "/v1/kb/articles?status=draft", token=token)[1]["articles"]
    assert [a["title"] for a in drafts] == ["Draft one"]
    page = api.request("GET", "/v1/kb/articles?limit=2", token=token)[1]
    assert len(page["articles"]) == 2 and page["next_cursor"]
    rest = api.request("GET", f"/v1/kb/articles?limit=2&cursor={page['next_cursor']}", token=token)[
        1
    ]
    assert len({a["id"] for a in page["articles"] + rest["articles"]}) == 4


# -- versions ------------------------------------------------------------------------------


def test_every_save_is_a_version_and_an_old_one_can_be_restored(api, team):
    owner, agent = team
    article = _article(api, owner["token"], tags=["Password"])
    _patch(api, agent["token"], article["id"], body="Version two.", tags=["account"])
    status, third, _ = _patch(api, owner["token"], article["id"], title="Reset it", body="Three.")
    assert (status, third["version"]) == (200, 3)
    versions = api.request(
        "GET", f"/v1/kb/articles/{article['id']}/versions", token=owner["token"]
    )[1]["versions"]
    assert [v["number"] for v in versions] == [3, 2, 1]
    assert versions[1]["body"] == "Version two."
    assert versions[1]["saved_by"] == f"user:{agent['user']['id']}"
    status, restored, _ = api.request(
        "POST", f"/v1/kb/articles/{article['id']}/versions/1/restore", token=owner["token"]
    )
    assert status == 200
    assert (restored["version"], restored["title"], restored["body"], restored["tags"]) == (
        4,
        "Reset your password",
        "Open **Settings**, then *Security*.",
        ["password"],
    )
    assert "<strong>Settings</strong>" in restored["html"]
    assert (
        api.request(
            "POST", f"/v1/kb/articles/{article['id']}/versions/9/restore", token=owner["token"]
        )[0]
        == 404
    )
    for number in ["²", "x1", "1234567"]:
        path = f"/v1/kb/articles/{article['id']}/versions/{number}/restore"
        assert api.request("POST", path, token=owner["token"])[0] == 404, number


def test_a_save_that_changes_nothing_adds_no_version(api, team):
    owner, _ = team
    article = _article(api, owner["token"])
    status, same, _ = _patch(api, owner["token"], article["id"], title=article["title"])
    assert (status, same["version"]) == (200, 1)


# -- slugs ---------------------------------------------------------------------------------


def test_slugs_are_unique_per_locale_but_may_repeat_across_locales(api, team):
    owner, _ = team
    _article(api, owner["token"], slug="billing")
    status, body, _ = api.request(
        "POST",
        "/v1/kb/articles",
        {"title": "Other", "slug": "billing"},
        token=owner["token"],
    )
    assert (status, body["error"]["code"]) == (409, "article_slug_taken")
    french = _article(api, owner["token"], title="Facturation", slug="billing", locale="fr")
    assert french["slug"] == "billing"
    listed = api.request("GET", "/v1/kb/articles", token=owner["token"])[1]["articles"]
    assert len(listed) == 2


def test_a_changed_slug_keeps_the_old_one_as_a_redirect_that_no_other_article_can_take(api, team):
    owner, _ = team
    token = owner["token"]
    article = _article(api, token, slug="reset-password")
    status, renamed, _ = _patch(api, token, article["id"], slug="password-reset")
    assert (status, renamed["slug"]) == (200, "password-reset")
    old = api.request("GET", "/v1/kb/slugs/en/reset-password", token=token)[1]
    assert old == {
        "article_id": article["id"],
        "locale": "en",
        "slug": "password-reset",
        "redirect": True,
    }
    current = api.request("GET", "/v1/kb/slugs/en/password-reset", token=token)[1]
    assert current["redirect"] is False
    status, body, _ = api.request(
        "POST", "/v1/kb/articles", {"title": "Squatter", "slug": "reset-password"}, token=token
    )
    assert (status, body["error"]["code"]) == (409, "article_slug_taken")
    # The article itself may take its old slug back.
    status, back, _ = _patch(api, token, article["id"], slug="reset-password")
    assert (status, back["slug"]) == (200, "reset-password")
    assert api.request("GET", "/v1/kb/slugs/en/password-reset", token=token)[1]["redirect"]


def test_renaming_to_another_articles_slug_is_refused_and_changes_nothing(api, team):
    owner, _ = team
    token = owner["token"]
    _article(api, token, slug="taken")
    mine = _article(api, token, title="Mine", slug="mine")
    status, body, _ = _patch(api, token, mine["id"], slug="taken", body="New body")
    assert (status, body["error"]["code"]) == (409, "article_slug_taken")
    unchanged = api.request("GET", f"/v1/kb/articles/{mine['id']}", token=token)[1]
    assert (unchanged["slug"], unchanged["body"], unchanged["version"]) == (
        "mine",
        mine["body"],
        1,
    )


def test_deleting_an_article_frees_its_slugs(api, team):
    owner, _ = team
    token = owner["token"]
    article = _article(api, token, slug="old")
    _patch(api, token, article["id"], slug="new")
    assert api.request("DELETE", f"/v1/kb/articles/{article['id']}", token=token)[0] == 204
    assert api.request("GET", f"/v1/kb/articles/{article['id']}", token=token)[0] == 404
    assert api.request("GET", "/v1/kb/slugs/en/old", token=token)[0] == 404
    assert _article(api, token, slug="old")["slug"] == "old"
    assert _article(api, token, slug="new")["slug"] == "new"


# -- translations --------------------------------------------------------------------------


def test_translations_are_linked_across_locales_one_per_locale(api, team):
    owner, _ = team
    token = owner["token"]
    english = _article(api, token, title="Billing")
    french = _article(api, token, title="Facturation", locale="fr", translation_of=english["id"])
    assert french["translation_group"] == english["translation_group"] == english["id"]
    detail = api.request("GET", f"/v1/kb/articles/{english['id']}", token=token)[1]
    assert detail["translations"] == [{"locale": "fr", "article_id": french["id"]}]
    back = api.request("GET", f"/v1/kb/articles/{french['id']}", token=token)[1]
    assert back["translations"] == [{"locale": "en", "article_id": english["id"]}]
    status, body, _ = api.request(
        "POST",
        "/v1/kb/articles",
        {"title": "Facturation bis", "locale": "fr", "translation_of": english["id"]},
        token=token,
    )
    assert (status, body["error"]["code"]) == (409, "translation_exists")


# -- categories ----------------------------------------------------------------------------


def test_categories_are_listed_by_position_and_can_be_moved(api, team):
    owner, agent = team
    token = owner["token"]
    made = {}
    for name, position in [("Billing", 2), ("Getting started", 0), ("Account", 1)]:
        status, body, _ = api.request(
            "POST", "/v1/kb/categories", {"name": name, "position": position}, token=token
        )
        assert status == 201, body
        made[name] = body
    listed = api.request("GET", "/v1/kb/categories", token=agent["token"])[1]["categories"]
    assert [c["name"] for c in listed] == ["Getting started", "Account", "Billing"]
    status, moved, _ = api.request(
        "PATCH", f"/v1/kb/categories/{made['Billing']['id']}", {"position": 0}, token=token
    )
    assert (status, moved["position"]) == (200, 0)
    listed = api.request("GET", "/v1/kb/categories", token=token)[1]["categories"]
    assert [c["name"] for c in listed] == ["Billing", "Getting started", "Account"]


def test_a_category_is_translated_per_locale_with_its_own_slug(api, team):
    owner, _ = team
    token = owner["token"]
    status, made, _ = api.request(
        "POST",
        "/v1/kb/categories",
        {"name": "Billing", "translations": {"fr": {"name": "Facturation"}}},
        token=token,
    )
    assert status == 201, made
    assert (made["slug"], made["translations"]) == (
        "billing",
        {"fr": {"name": "Facturation", "description": "", "slug": "facturation"}},
    )
    path = f"/v1/kb/categories/{made['id']}"
    fr = {
        "name": " Paiements  et factures ",
        "description": "Cartes, virements",
        "slug": "paiements",
    }
    status, changed, _ = api.request("PATCH", path, {"translations": {"fr": fr}}, token=token)
    assert status == 200, changed
    assert changed["translations"]["fr"] == {
        "name": "Paiements et factures",
        "description": "Cartes, virements",
        "slug": "paiements",
    }
    assert api.request("GET", path, token=token)[1]["translations"] == changed["translations"]
    status, removed, _ = api.request("PATCH", path, {"translations": {"fr": None}}, token=token)
    assert (status, removed["translations"]) == (200, {})


@pytest.mark.parametrize(
    "translations",
    [
        {"de": {"name": "Rechnungen"}},
        {"fr": {"name": "   "}},
        {"fr": {"name": "Facturation", "slug": "Not A Slug"}},
        {"fr": {"description": "no name"}},
    ],
)
def test_a_category_translation_must_name_a_known_locale_a_name_and_a_valid_slug(
    api, team, translations
):
    token = team[0]["token"]
    status, body, _ = api.request(
        "POST", "/v1/kb/categories", {"name": "Billing", "translations": translations}, token=token
    )
    assert status == 422, body


def test_two_categories_cannot_share_a_slug_in_one_locale(api, team):
    token = team[0]["token"]
    api.request(
        "POST",
        "/v1/kb/categories",
        {"name": "Billing", "translations": {"fr": {"name": "Facturation"}}},
        token=token,
    )
    status, body, _ = api.request(
        "POST",
        "/v1/kb/categories",
        {"name": "Invoices", "translations": {"fr": {"name": "Factures", "slug": "facturation"}}},
        token=token,
    )
    assert (status, body["error"]["code"]) == (409, "category_slug_taken")


def test_another_workspace_cannot_translate_a_category(api, team):
    token = team[0]["token"]
    made = api.request("POST", "/v1/kb/categories", {"name": "Billing"}, token=token)[1]
    stranger = api.sign_up(workspace="Other Co", email="eve@other.test")
    status, body, _ = api.request(
        "PATCH",
        f"/v1/kb/categories/{made['id']}",
        {"translations": {"fr": {"name": "Volé"}}},
        token=stranger["token"],
    )
    assert (status, body["error"]["code"]) == (404, "category_not_found")
    assert (
        api.request("GET", f"/v1/kb/categories/{made['id']}", token=token)[1]["translations"] == {}
    )


def test_articles_belong_to_a_category_which_cannot_be_deleted_while_it_has_some(api, team):
    owner, _ = team
    token = owner["token"]
    category = api.request("POST", "/v1/kb/categories", {"name": "Billing"}, token=token)[1]
    article = _article(api, token, category_id=category["id"])
    _article(api, token, title="Elsewhere")
    in_category = api.request("GET", f"/v1/kb/articles?category={category['id']}", token=token)[1][
        "articles"
    ]
    assert [a["id"] for a in in_category] == [article["id"]]
    status, body, _ = api.request("DELETE", f"/v1/kb/categories/{category['id']}", token=token)
    assert (status, body["error"]["code"]) == (409, "category_not_empty")
    _patch(api, token, article["id"], category_id=None)
    assert api.request("DELETE", f"/v1/kb/categories/{category['id']}", token=token)[0] == 204
    status, body, _ = api.request(
        "POST",
        "/v1/kb/articles",
        {"title": "Lost", "category_id": category["id"]},
        token=token,
    )
    assert (status, body["error"]["code"]) == (422, "unknown_category")


# -- publication events --------------------------------------------------------------------


def test_publishing_unpublishing_editing_and_deleting_are_announced_to_search(api, team, aws):
    owner, _ = team
    token = owner["token"]
    article = _article(api, token)
    _patch(api, token, article["id"], body="Still a draft.")
    assert _events(aws) == []
    aid = article["id"]
    _patch(api, token, aid, status="published")
    _patch(api, token, aid, body="Edited while published.")
    _patch(api, token, aid, status="draft")
    _patch(api, token, aid, status="internal")
    api.request("DELETE", f"/v1/kb/articles/{aid}", token=token)
    assert _events(aws) == [
        ("article.published", aid, "en"),
        ("article.published", aid, "en"),
        ("article.unpublished", aid, "en"),
        ("article.published", aid, "en"),
        ("article.deleted", aid, "en"),
    ]


def test_the_ticket_search_indexer_ignores_article_events(api, team):
    from chalice.test import Client

    from app import app

    owner, _ = team
    article = _article(api, owner["token"], status="published")
    event = {
        "id": "01J00000000000000000000000",
        "type": "article.published",
        "workspace_id": owner["workspace"]["id"],
        "article_id": article["id"],
        "locale": "en",
    }
    with Client(app) as client:
        result = client.lambda_.invoke(
            "search_indexer",
            client.events.generate_sqs_event(
                queue_name=get_settings().queues.events, message_bodies=[json.dumps(event)]
            ),
        )
    assert result.payload == {"batchItemFailures": []}


# -- Markdown safety -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "![x](javascript:alert(1))",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=https://evil.test></iframe>",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '[x](https://ok.test "a\\" onmouseover=\\"alert(1)")',
    ],
)
def test_markdown_never_yields_script_or_raw_html(api, team, markdown):
    owner, _ = team
    article = _article(api, owner["token"], body=markdown)
    assert _unsafe_parts(article["html"]) == []
    stored = api.request("GET", f"/v1/kb/articles/{article['id']}", token=owner["token"])[1]
    assert stored["body"] == markdown and stored["html"] == article["html"]


# -- images --------------------------------------------------------------------------------


def test_an_image_uploads_through_the_presigned_post_and_is_served_from_its_public_url(
    api, team, aws
):
    owner, _ = team
    png = _png()
    status, upload, _ = api.request(
        "POST",
        "/v1/kb/uploads",
        {"filename": "screenshot.png", "content_type": "image/png", "size": len(png)},
        token=owner["token"],
    )
    assert status == 201, upload
    ws = owner["workspace"]["id"]
    assert upload["key"].startswith(f"ws/{ws}/kb/") and upload["key"].endswith(".png")
    assert upload["method"] == "POST" and upload["max_bytes"] == 5 * 1024 * 1024
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    assert ["content-length-range", 1, 5 * 1024 * 1024] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]
    posted = requests.post(
        upload["upload_url"],
        data=upload["fields"],
        files={"file": ("screenshot.png", png, "image/png")},
        timeout=10,
    )
    assert posted.status_code in (200, 201, 204), posted.text
    stored = aws.client("s3").get_object(Bucket=aws.bucket, Key=upload["key"])
    assert stored["Body"].read() == png and stored["ContentType"] == "image/png"
    path = upload["public_url"].removeprefix(get_settings().public_base_url)
    status, _, headers = api.request("GET", path)
    assert status == 302
    assert requests.get(headers["Location"], timeout=10).content == png


@pytest.mark.parametrize(
    ("content_type", "size", "expected"),
    [
        ("image/svg+xml", 100, (422, "unsupported_image_type")),
        ("text/html", 100, (422, "unsupported_image_type")),
        ("image/png", 5 * 1024 * 1024 + 1, (413, "image_too_large")),
        ("image/png", 0, (422, "validation_failed")),
    ],
)
def test_uploads_refuse_other_types_and_images_over_5_mb(api, team, content_type, size, expected):
    owner, _ = team
    status, body, _ = api.request(
        "POST",
        "/v1/kb/uploads",
        {"filename": "x", "content_type": content_type, "size": size},
        token=owner["token"],
    )
    assert (status, body["error"]["code"]) == expected


def test_image_urls_reach_only_article_images(api):
    for path in (
        "/v1/kb/images/01J00000000000000000000000/..%2Fattachments%2Fx",
        "/v1/kb/images/01J00000000000000000000000/secret.txt",
        "/v1/kb/images/x/01J00000000000000000000000.png",
    ):
        assert api.request("GET", path)[0] == 404


# -- who may do what -----------------------------------------------------------------------


def test_agents_write_and_publish_but_only_owners_and_admins_delete(api, team):
    owner, agent = team
    article = _article(api, agent["token"])
    status, published, _ = _patch(api, agent["token"], article["id"], status="published")
    assert (status, published["status"]) == (200, "published")
    status, body, _ = api.request(
        "DELETE", f"/v1/kb/articles/{article['id']}", token=agent["token"]
    )
    assert (status, body["error"]["code"]) == (403, "forbidden_role")
    category = api.request("POST", "/v1/kb/categories", {"name": "X"}, token=agent["token"])[1]
    assert (
        api.request("DELETE", f"/v1/kb/categories/{category['id']}", token=agent["token"])[0] == 403
    )
    assert api.request("GET", f"/v1/kb/articles/{article['id']}", token=owner["token"])[0] == 200


def test_other_workspaces_articles_and_categories_are_not_found(api, team):
    owner, _ = team
    article = _article(api, owner["token"], slug="private")
    category = api.request("POST", "/v1/kb/categories", {"name": "X"}, token=owner["token"])[1]
    other = api.sign_up(workspace="Globex", email="gil@globex.test")["token"]
    aid, cid = article["id"], category["id"]
    for method, path, body in [
        ("GET", f"/v1/kb/articles/{aid}", None),
        ("PATCH", f"/v1/kb/articles/{aid}", {"title": "Mine now"}),
        ("DELETE", f"/v1/kb/articles/{aid}", None),
        ("GET", f"/v1/kb/articles/{aid}/versions", None),
        ("POST", f"/v1/kb/articles/{aid}/versions/1/restore", None),
        ("GET", "/v1/kb/slugs/en/private", None),
        ("GET", f"/v1/kb/categories/{cid}", None),
        ("PATCH", f"/v1/kb/categories/{cid}", {"name": "Mine"}),
        ("DELETE", f"/v1/kb/categories/{cid}", None),
    ]:
        status, _, _ = api.request(method, path, body, token=other)
        assert status == 404, (method, path)
    assert api.request("GET", "/v1/kb/articles", token=other)[1]["articles"] == []
    assert api.request("GET", "/v1/kb/categories", token=other)[1]["categories"] == []
    status, body, _ = api.request(
        "POST", "/v1/kb/articles", {"title": "T", "translation_of": aid}, token=other
    )
    assert status == 404
    assert _article(api, other, slug="private")["slug"] == "private"  # slugs are per workspace


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "T", "locale": "de"}, "locale"),
        ({"title": "T", "status": "archived"}, "status"),
        ({"title": "T", "slug": "Not A Slug"}, "slug"),
        ({"title": "T", "body": "x" * 30_001}, "body"),
        ({"title": "T", "tags": ["no spaces allowed!"]}, "tags"),
        ({"title": "T", "surprise": 1}, "surprise"),
    ],
)
def test_bad_articles_are_refused_with_the_field_named_and_nothing_stored(api, team, body, field):
    owner, _ = team
    status, refused, _ = api.request("POST", "/v1/kb/articles", body, token=owner["token"])
    assert status == 422, refused
    assert any(d["field"].startswith(field) for d in refused["error"]["details"])
    assert api.request("GET", "/v1/kb/articles", token=owner["token"])[1]["articles"] == []


# -- bounds --------------------------------------------------------------------------------


@pytest.fixture()
def aws_calls(monkeypatch):
    import botocore.endpoint

    calls = []
    original = botocore.endpoint.Endpoint.make_request

    def counting(self, operation_model, request_dict):
        calls.append(operation_model.name)
        return original(self, operation_model, request_dict)

    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", counting)
    return calls


def test_knowledge_base_requests_make_the_same_calls_whatever_its_size(api, team, aws_calls):
    owner, _ = team
    token = owner["token"]
    article = _article(api, token, slug="first", status="published")
    api.request("POST", "/v1/kb/categories", {"name": "Billing"}, token=token)

    def calls(round_name):
        counted = {}
        for method, path, body in [
            ("GET", "/v1/kb/articles?status=published&locale=en&limit=5", None),
            ("GET", f"/v1/kb/articles/{article['id']}", None),
            ("GET", f"/v1/kb/articles/{article['id']}/versions?limit=5", None),
            ("GET", "/v1/kb/slugs/en/first", None),
            ("GET", "/v1/kb/categories", None),
            ("PATCH", f"/v1/kb/articles/{article['id']}", {"tags": [round_name]}),
        ]:
            aws_calls.clear()
            status, _, _ = api.request(method, path, body, token=token)
            assert status == 200, path
            counted[f"{method} {path}"] = [c for c in aws_calls if c != "SendMessage"]
        return counted

    small = calls("small")
    for n in range(15):
        _article(api, token, title=f"Article {n}", status="published")
        _patch(api, token, article["id"], body=f"Revision {n}")
    large = calls("large")
    assert large == small
    # 2: authentication; 1: the billing gate, asked by changes only
    assert all(len(made) <= 2 + 3 + ("PATCH" in path) for path, made in large.items()), large
    assert not any("Scan" in call for made in large.values() for call in made)
