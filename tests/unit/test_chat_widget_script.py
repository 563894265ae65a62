"""`GET /chat/widget.js`: the chat widget a workspace's site loads, served as written, small,
cached and revalidated, and built to run on someone else's page."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys

import pytest
from chalice.test import Client

from app import app
from chalicelib.api.chat_widget import WIDGET_SCRIPT
from tests.stages import TEST_STAGE

BROWSER = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate, br"}
SIZE_BUDGET_GZIPPED = 30 * 1024


@pytest.fixture(scope="module")
def client():
    with Client(app, stage_name=TEST_STAGE) as test_client:
        yield test_client


def source() -> str:
    return WIDGET_SCRIPT.read_text(encoding="utf-8")


def test_browsers_get_the_widget_gzipped_and_it_unzips_to_the_file(client):
    response = client.http.get("/chat/widget.js", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/javascript; charset=utf-8"
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.body) == WIDGET_SCRIPT.read_bytes()
    assert "Accept-Encoding" in response.headers["Vary"]


def test_a_client_without_gzip_gets_the_file_byte_for_byte(client):
    response = client.http.get("/chat/widget.js", headers={"Accept": "*/*"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/javascript; charset=utf-8"
    assert "Content-Encoding" not in response.headers
    assert response.body == WIDGET_SCRIPT.read_bytes()


def test_a_refused_gzip_is_not_sent(client):
    headers = {"Accept": "*/*", "Accept-Encoding": "gzip;q=0, identity"}
    response = client.http.get("/chat/widget.js", headers=headers)
    assert "Content-Encoding" not in response.headers
    assert response.body == WIDGET_SCRIPT.read_bytes()


def test_a_client_that_accepts_no_binary_type_still_gets_the_script_as_text(client):
    response = client.http.get("/chat/widget.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "Content-Encoding" not in response.headers
    assert response.body == WIDGET_SCRIPT.read_bytes()


def test_the_widget_is_cached_five_minutes_by_anyone_and_loadable_from_any_site(client):
    response = client.http.get("/chat/widget.js", headers=BROWSER)
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_unchanged_widget_is_revalidated_with_304_per_encoding(client):
    zipped = client.http.get("/chat/widget.js", headers=BROWSER)
    plain = client.http.get("/chat/widget.js", headers={"Accept": "*/*"})
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    again = client.http.get(
        "/chat/widget.js", headers={**BROWSER, "If-None-Match": zipped.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.body == b""
    assert again.headers["ETag"] == zipped.headers["ETag"]
    stale = client.http.get("/chat/widget.js", headers={**BROWSER, "If-None-Match": '"old"'})
    assert stale.status_code == 200


def test_the_widget_stays_under_30_kb_compressed():
    size = len(gzip.compress(WIDGET_SCRIPT.read_bytes(), compresslevel=9))
    assert size < SIZE_BUDGET_GZIPPED, f"{size} bytes gzipped"


def test_the_widget_never_parses_html_or_evaluates_code():
    code = "\n".join(line for line in source().splitlines() if not line.lstrip().startswith("//"))
    for forbidden in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        'setTimeout("',
        "document.cookie",
    ):
        assert forbidden not in code, forbidden
    # No inline event attributes, and no string-built style attributes (CSP: unsafe-inline).
    assert not re.search(r"setAttribute\(\s*[\"']on", code)
    assert not re.search(r"setAttribute\(\s*[\"']style", code)


def test_the_widget_sets_no_global_but_helptal_chat():
    code = source()
    assigned = set(re.findall(r"window\.([A-Za-z_$][\w$]*)\s*=(?!=)", code))
    assert assigned == {"HelptalChat"}
    assert code.lstrip().startswith("//") and "(function () {" in code


def test_the_widget_speaks_english_and_french_with_the_same_words():
    code = source()
    blocks = {
        lang: re.search(rf"\n    {lang}: \{{\n(.*?)\n    \}},", code, re.S).group(1)
        for lang in ("en", "fr")
    }
    keys = {lang: re.findall(r"^\s+(\w+):", block, re.M) for lang, block in blocks.items()}
    assert keys["en"] == keys["fr"] and len(keys["en"]) > 20
    for english, french in (
        ("Chat with us", "Discuter avec nous"),
        ("Send", "Envoyer"),
        ("We reply by e-mail", "Nous répondons par e-mail"),
        ("Answer bot", "Assistant automatique"),
        ("Email me the transcript", "M\u2019envoyer la transcription par e-mail"),
    ):
        assert f'"{english}"' in blocks["en"] and f'"{french}"' in blocks["fr"]


def test_importing_the_app_does_not_read_the_widget():
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import app; from chalicelib.api.chat_widget import widget_script; "
            "print(widget_script.cache_info().currsize)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "0"
