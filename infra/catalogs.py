"""Compiles the gettext catalogs of customer-facing text (`chalicelib/locales/*/LC_MESSAGES/
helptal.po`) into the `.mo` files the app reads, and checks them.

The `.mo` files are committed next to their `.po` (the package and the tests need no build
step); `tests/unit/test_translation_catalogs.py` fails when one is out of date.

    python -m infra.catalogs          # compile every catalog
    python -m infra.catalogs --check  # exit 1 if a .mo is out of date"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "chalicelib" / "locales"
DOMAIN = "helptal"


def catalog_sources() -> list[Path]:
    return sorted(LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def compiled(po_path: Path) -> bytes:
    """The `.mo` bytes of one `.po` (fuzzy entries left out, as msgfmt does)."""
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=po_path.parent.parent.name.split("@")[0])
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def main(argv: list[str]) -> int:
    stale = []
    for po_path in catalog_sources():
        mo_path = po_path.with_suffix(".mo")
        data = compiled(po_path)
        if mo_path.exists() and mo_path.read_bytes() == data:
            continue
        if "--check" in argv:
            stale.append(str(mo_path))
        else:
            mo_path.write_bytes(data)
            print(f"compiled {mo_path.relative_to(LOCALES_DIR.parent.parent)}")
    if stale:
        print("out of date (run python -m infra.catalogs):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
