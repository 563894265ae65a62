"""Article Markdown rendered to HTML that is safe to show on the help centre."""

import pytest

from chalicelib.kb.render import render_markdown, sanitize_article_html


def test_markdown_formatting_becomes_html():
    html = render_markdown("# Billing\n\nPay by **card** or *transfer*:\n\n- Visa\n- SEPA\n")
    assert html == (
        "<h1>Billing</h1>\n<p>Pay by <strong>card</strong> or <em>transfer</em>:</p>\n"
        "<ul>\n<li>Visa</li>\n<li>SEPA</li>\n</ul>\n"
    )


def test_raw_html_in_markdown_is_shown_as_text_not_run():
    assert render_markdown("<script>alert(1)</script>") == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
    )
    assert render_markdown("<b onclick=x>hi</b>") == "<p>&lt;b onclick=x&gt;hi&lt;/b&gt;</p>\n"


@pytest.mark.parametrize(
    "markdown",
    [
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](vbscript:msgbox)",
        "[x](data:text/html,<script>alert(1)</script>)",
        "![x](javascript:alert(1))",
        "[x](<javascript:alert(1)>)",
    ],
)
def test_script_urls_never_become_links_or_images(markdown):
    html = render_markdown(markdown)
    assert "<a " not in html and "<img" not in html


def test_inline_data_images_are_dropped():
    assert "<img" not in render_markdown("![pixel](data:image/png;base64,iVBORw0KGgo=)")


def test_links_keep_http_mailto_and_help_centre_paths_but_not_other_hosts_without_scheme():
    html = render_markdown(
        "[a](https://example.test/x) [b](mailto:help@acme.test) [c](/hc/acme/en/articles/x) "
        "[d](#steps) [e](//evil.test/x)"
    )
    assert 'href="https://example.test/x"' in html
    assert 'href="mailto:help@acme.test"' in html
    assert 'href="/hc/acme/en/articles/x"' in html
    assert 'href="#steps"' in html
    assert "evil.test" not in html
    assert html.count('rel="noopener noreferrer"') == 5


def test_images_keep_their_source_alt_and_title():
    html = render_markdown('![Settings page](https://api.helptal.test/v1/kb/images/a.png "Menu")')
    assert html == (
        '<p><img src="https://api.helptal.test/v1/kb/images/a.png" alt="Settings page"'
        ' title="Menu"></p>\n'
    )


def test_code_is_escaped_inside_code_blocks():
    html = render_markdown("```\n<script>alert(1)</script>\n```")
    assert html == "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>\n"


def test_a_table_renders_as_a_table_with_its_alignment_as_classes():
    html = render_markdown("| Plan | Price |\n|:-----|------:|\n| Pro | 10 € |\n")
    assert html == (
        '<table>\n<thead>\n<tr>\n<th class="align-left">Plan</th>\n'
        '<th class="align-right">Price</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n'
        '<td class="align-left">Pro</td>\n<td class="align-right">10 €</td>\n'
        "</tr>\n</tbody>\n</table>\n"
    )


def test_script_or_event_handler_in_a_table_cell_does_not_survive():
    html = render_markdown(
        "| a | b |\n|---|---|\n| <script>alert(1)</script> | <img src=x onerror=alert(1)> |\n"
        "| [x](javascript:alert(1)) | ![y](javascript:alert(1)) |\n"
    )
    assert "<table>" in html and "<td>" in html
    assert "<script" not in html and "<img" not in html and "<a " not in html
    assert "onerror=alert(1)" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")


def test_sanitiser_keeps_only_known_classes_and_no_style_in_tables():
    html = sanitize_article_html(
        '<table><tr><td class="align-center evil" style="color:red" onclick="x">a</td>'
        '<td class="evil">b</td></tr></table>'
    )
    assert html == (
        '<table><tbody><tr><td class="align-center">a</td><td>b</td></tr></tbody></table>'
    )


def test_strikethrough_and_autolinks():
    html = render_markdown("~~old price~~ see https://acme.test/pricing or www.example.com")
    assert "<s>old price</s>" in html
    assert '<a href="https://acme.test/pricing" rel="noopener noreferrer">' in html
    assert '<a href="http://www.example.com" rel="noopener noreferrer">www.example.com</a>' in html


def test_task_lists_become_checkboxes_no_one_can_tick():
    html = render_markdown("- [ ] Export your data\n- [x] Cancel the plan\n")
    assert html == (
        '<ul class="contains-task-list">\n'
        '<li class="task-list-item"><input type="checkbox" disabled> Export your data</li>\n'
        '<li class="task-list-item"><input type="checkbox" disabled checked> Cancel the plan'
        "</li>\n</ul>\n"
    )


def test_any_other_input_becomes_a_disabled_checkbox():
    html = sanitize_article_html('<input type="text" name="card" value="x" onfocus="y">')
    assert html == '<input type="checkbox" disabled>'
