"""The public sub-processor pages in headless Chromium against the local stack (which plans
the move of hosting to AWS 40 days out, as `make run` does): the list and the changelog in
English and French, on a 360 px phone and on a desktop, readable without scrolling sideways,
under their Content-Security-Policy with no script, and accessible (axe-core).

Screenshots: test-artifacts/screenshots/subprocessors-<page>-<language>-<width>.png."""

from __future__ import annotations

import pytest

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import SCREENSHOTS

SCREENS = {
    "phone": {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 1},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}
EXPECTED = {
    "en": {
        "list": ("Sub-processors", "Upcoming changes", "Leaves the list on"),
        "changelog": ("Sub-processor changelog", "Upcoming changes", "the list as first published"),
    },
    "fr": {
        "list": ("Sous-traitants", "Changements à venir", "Quitte la liste le"),
        "changelog": (
            "Historique des sous-traitants",
            "Changements à venir",
            "la liste telle que publiée à l'origine",
        ),
    },
}
AUTHORITATIVE = (
    "Cette traduction est fournie à titre indicatif. La version anglaise fait juridiquement foi."
)


def _watch_for_refusals(page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if "Content Security Policy" in message.text or message.text.startswith("Refused")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_the_sub_processor_pages_read_well_in_both_languages(stack, browser, screen):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(**SCREENS[screen])
    page = context.new_page()
    problems = _watch_for_refusals(page)
    for language in ("en", "fr"):
        for name, path in (
            ("list", "/legal/subprocessors"),
            ("changelog", "/legal/subprocessors/changelog"),
        ):
            where = f"{name} in {language} on {screen}"
            response = page.goto(f"{stack.api_url}{path}?lang={language}")
            assert response is not None and response.status == 200, where
            assert "default-src 'none'" in response.headers["content-security-policy"], where
            assert page.locator("html").get_attribute("lang") == language, where
            assert page.locator("script").count() == 0, where
            text = page.locator("main").inner_text()
            title, upcoming, marker = EXPECTED[language][name]
            assert page.locator("h1").inner_text() == title, where
            assert upcoming in text and "Amazon Web Services" in text, where
            assert marker in text, where
            assert (AUTHORITATIVE in text) == (language == "fr"), where
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= SCREENS[screen]["viewport"]["width"], f"{where}: {width} px wide"
            assert_accessible(page, where)
            page.screenshot(
                path=str(SCREENSHOTS / f"subprocessors-{name}-{language}-{screen}.png"),
                full_page=True,
            )
    # The language switcher leads to the other language's page; the form is there to use.
    page.goto(f"{stack.api_url}/legal/subprocessors?lang=en")
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Français").click()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.url.endswith("/legal/subprocessors?lang=fr")
    form = page.locator("form[action='/legal/subprocessors/subscribe']")
    assert form.get_by_label("Adresse e-mail").get_attribute("type") == "email"
    assert form.get_by_label("Langue des avis").input_value() == "fr"
    page.get_by_role("link", name="Consulter l'historique").click()
    assert page.locator("h1").inner_text() == "Historique des sous-traitants"
    context.close()
    assert problems == [], problems
