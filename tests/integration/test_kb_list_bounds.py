"""Filtering the article list by locale alone reads one bounded slice per page."""

from tests.integration.test_concurrency_and_bounds import _calls_for


def _article(api, token, title, locale):
    status, body, _ = api.request(
        "POST", "/v1/kb/articles", {"title": title, "body": "Text.", "locale": locale}, token=token
    )
    assert status == 201, body
    return body


def test_a_rare_locale_costs_one_query_per_page_and_is_found_by_the_cursor(api, aws_calls):
    owner = api.sign_up()
    token = owner["token"]
    french = _article(api, token, "Premier", "fr")
    _article(api, token, "First", "en")
    path = "/v1/kb/articles?locale=fr&limit=10"
    few = _calls_for(api, aws_calls, "GET", path, token)
    for n in range(110):
        _article(api, token, f"Article {n}", "en")
    many = _calls_for(api, aws_calls, "GET", path, token)
    assert many == few and many.count("Query") == 1

    found, cursor = [], None
    while True:
        status, body, _ = api.request(
            "GET", path + (f"&cursor={cursor}" if cursor else ""), token=token
        )
        assert status == 200, body
        found += [a["id"] for a in body["articles"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert found == [french["id"]]
