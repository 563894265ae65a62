import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.mail.sanitize import html_to_text, sanitize_html

ROOT = Path(__file__).resolve().parents[2]


# --- sanitize_html --------------------------------------------------------------------------


def test_formatting_is_kept():
    html = (
        "<h2>Steps</h2><p>Open <b>Settings</b>, then <i>Export</i>.<br>Done.</p>"
        "<ul><li>one</li></ul><ol><li>two</li></ol><blockquote>quoted</blockquote>"
        "<pre><code>x = 1</code></pre><hr>"
        '<table><thead><tr><th colspan="2">Plan</th></tr></thead>'
        '<tbody><tr><td rowspan="2">Pro</td><td>12</td></tr></tbody></table>'
    )
    assert sanitize_html(html) == html


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("<p>hi<script>alert(1)</script></p>", "<p>hi</p>"),
        ("<style>p{color:red}</style><p>hi</p>", "<p>hi</p>"),
        ('<p onclick="steal()" style="position:fixed" class="x" id="y">hi</p>', "<p>hi</p>"),
        ('<img src="https://x.test/a.png" onerror="steal()">', '<img src="https://x.test/a.png">'),
        ('<iframe src="https://evil.test"></iframe><p>hi</p>', "<p>hi</p>"),
        ('<form action="https://evil.test"><input name="pw"><button>Go</button></form>', "Go"),
        ("<svg><script>alert(1)</script></svg>ok", "ok"),
        ("<!--[if mso]><p>outlook only</p><![endif]--><p>hi</p>", "<p>hi</p>"),
        ("<o:p>Office</o:p>", "Office"),
    ],
)
def test_active_content_is_removed(dirty, clean):
    assert sanitize_html(dirty) == clean


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox",
        "//evil.test/phish",
        "/relative/path",
        "file:///etc/passwd",
    ],
)
def test_links_with_unsafe_or_relative_targets_lose_their_target(href):
    assert sanitize_html(f'<a href="{href}">click</a>') == (
        '<a rel="noopener noreferrer nofollow">click</a>'
    )


def test_links_open_without_referrer_or_opener_and_keep_their_title():
    html = '<a href="https://helptal.test/docs" title="Docs" target="_top">docs</a>'
    assert sanitize_html(html) == (
        '<a href="https://helptal.test/docs" title="Docs" rel="noopener noreferrer nofollow">'
        "docs</a>"
    )
    assert 'href="mailto:ann@x.test"' in sanitize_html('<a href="mailto:ann@x.test">Ann</a>')


def test_cid_images_point_at_the_given_urls_and_unknown_ones_are_dropped():
    html = (
        '<p><img src="cid:ii_m3x1k2p40" alt="screenshot" width="542" height="301"></p>'
        '<p><img src="cid:unknown@x" alt="gone"></p>'
        '<p><img src="CID:%3Cimage001.png%4001DB2C%3E"></p>'
    )
    cid_urls = {
        "<ii_m3x1k2p40>": "https://files.helptal.test/a/1",
        "image001.png@01DB2C": "https://files.helptal.test/a/2",
    }

    assert sanitize_html(html, cid_urls=cid_urls) == (
        '<p><img src="https://files.helptal.test/a/1" alt="screenshot" width="542" height="301">'
        '</p><p></p><p><img src="https://files.helptal.test/a/2"></p>'
    )


def test_data_and_script_images_are_dropped_and_attribute_text_stays_escaped():
    html = (
        '<img src="data:image/png;base64,iVBORw0KGgo=" alt="inline">'
        '<img src="javascript:alert(1)">'
        '<img alt="a > b" src="https://x.test/i.png">'
    )
    assert sanitize_html(html) == '<img alt="a &gt; b" src="https://x.test/i.png">'


def test_a_cid_can_point_at_a_path_on_our_host():
    html = '<img src="cid:photo1">'
    assert sanitize_html(html, cid_urls={"photo1": "/v1/tickets/t1/attachments/a1"}) == (
        '<img src="/v1/tickets/t1/attachments/a1">'
    )


@pytest.mark.parametrize("url", ["javascript:alert(1)", "//evil.test/x.png", "data:image/png,x"])
def test_a_cid_mapped_to_an_unsafe_url_is_still_dropped(url):
    assert sanitize_html('<img src="cid:a">', cid_urls={"a": url}) == ""


def test_an_outlook_document_keeps_its_text_and_loses_head_styles_and_office_markup():
    html = (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
        '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        "<style>P {margin-top:0;margin-bottom:0;}</style></head><body dir='ltr'>"
        "<!--[if gte mso 9]><xml><o:OfficeDocumentSettings/></xml><![endif]-->"
        '<div class="elementToProof" style="font-family: Aptos">It still fails.<o:p></o:p></div>'
        '<div id="divRplyFwdMsg"><font face="Calibri"><b>From:</b> Ann</font></div>'
        "</body></html>"
    )
    assert sanitize_html(html) == "<div>It still fails.</div><div><b>From:</b> Ann</div>"


def test_importing_the_sanitiser_does_not_load_nh3():
    script = "import sys, chalicelib.mail.sanitize; print('nh3' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "False"


# --- html_to_text ---------------------------------------------------------------------------


def test_text_keeps_paragraphs_breaks_and_list_items_and_decodes_entities():
    html = (
        "<html><head><title>Mail</title><style>p{}</style></head><body>"
        "<p>Hello&nbsp;Ann,</p><p>Line one<br>Line&#160;two &amp; &lt;three&gt;</p>"
        "<ul><li>first</li><li>second</li></ul><ol><li>alpha</li><li>beta</li></ol>"
        "<div>Caf&eacute; &euro; &#x1F44D;</div><script>var x = 1;</script></body></html>"
    )
    assert html_to_text(html) == (
        "Hello Ann,\n\nLine one\nLine two & <three>\n\n- first\n- second\n1. alpha\n2. beta\n"
        "Café € 👍"
    )


def test_text_marks_quoted_blocks_and_keeps_link_targets():
    html = (
        "<div>See <a href='https://helptal.test/docs'>the docs</a> or "
        "<a href='https://helptal.test/x'>https://helptal.test/x</a>.</div>"
        "<blockquote><p>old question</p><blockquote>older</blockquote></blockquote>"
    )
    assert html_to_text(html) == (
        "See the docs <https://helptal.test/docs> or https://helptal.test/x.\n\n"
        "> old question\n>\n> > older"
    )


def test_preformatted_text_keeps_its_spacing():
    assert html_to_text("<pre>  a  b\n    c</pre>") == "  a  b\n    c"


def test_table_cells_are_spaced_and_rows_are_lines():
    html = "<table><tr><td>Plan</td><td>Price</td></tr><tr><td>Pro</td><td>12</td></tr></table>"
    assert html_to_text(html) == "Plan  Price\nPro  12"


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<",
        "<<<<>>>>",
        "<p",
        "<!--",
        "<![CDATA[",
        "</p></div></blockquote></ul>",
        "<a href=" + "x" * 100_000,
        "<b>" * 20_000,
        "<img src='data:image/png;base64," + "A" * 1_000_000 + "'>after",
        "\x00\x01<p>\ud800</p>",
    ],
)
def test_text_from_broken_html_never_raises(html):
    assert isinstance(html_to_text(html), str)
    assert isinstance(sanitize_html(html), str)
