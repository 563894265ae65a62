"""axe-core in the browser tests: `assert_accessible(page, screen)` runs the accessibility
checker on what the page shows and fails on any serious or critical violation.

axe-core is vendored for the tests only (`tests/e2e/vendor/axe.min.js`, pinned in
`infra/web_vendor.py`), never served with the app.  The app's Content-Security-Policy allows
no inline script, so `page.add_script_tag` (an inline script) is refused; the checker is
evaluated through the DevTools protocol instead (`page.evaluate`), which the page's policy
does not govern, and the page keeps its real policy while it is checked."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

AXE_SOURCE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
SERIOUS = ("serious", "critical")
# Violations known and not yet fixed, as (rule, the node's CSS target): each is reported by
# `known_violations` and kept out of the assertion until its screen is fixed.
KNOWN: dict[tuple[str, str], str] = {}

_RUN = """async (serious) => {
  const result = await window.axe.run(document, {
    resultTypes: ["violations"],
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
  });
  return result.violations
    .filter((v) => serious.includes(v.impact))
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
    }));
}"""


@cache
def _source() -> str:
    return AXE_SOURCE.read_text(encoding="utf-8")


def violations(page: Any, *, known: bool = False) -> list[dict[str, Any]]:
    """The serious and critical violations axe-core finds on the page as it is now; the
    `KNOWN` ones only with `known=True` (then only those)."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(f"(() => {{ {_source()}\n}})()")
    found: list[dict[str, Any]] = page.evaluate(_RUN, list(SERIOUS))
    kept = []
    for violation in found:
        nodes = [
            n for n in violation["nodes"] if ((violation["id"], n["target"]) in KNOWN) == known
        ]
        if nodes:
            kept.append({**violation, "nodes": nodes})
    return kept


def describe(found: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    "
        + "\n    ".join(f"{n['target']} — {n['summary']}" for n in v["nodes"][:5])
        for v in found
    )


def assert_accessible(page: Any, screen: str) -> None:
    """Fails with axe-core's findings when `screen` has a serious or critical violation."""
    found = violations(page)
    assert not found, f"accessibility of {screen}:\n{describe(found)}"
