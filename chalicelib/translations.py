"""Customer-facing text in the reader's language: gettext catalogs compiled from
`chalicelib/locales/<locale>/LC_MESSAGES/helptal.po` (see infra/catalogs.py).

Message ids are keys (`invitation.subject`), so one id has one English and one French text,
and a sentence whose wording depends on a word (French elision: "en tant qu'agent" but "en
tant que propriétaire") is one message per case rather than words put together.  French
addresses the reader with "vous"; a workspace that chose `informal` gets "tu" from the
`fr@informal` catalog, which holds only the messages that address the reader and falls back
to `fr` for the rest.  Babel reads the catalogs on first use, not when the app is imported."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from gettext import NullTranslations

LOCALES = ("en", "fr")
DEFAULT_LOCALE = "en"
DOMAIN = "helptal"
Formality = Literal["formal", "informal"]
FORMALITIES: tuple[Formality, ...] = ("formal", "informal")
LOCALES_DIR = Path(__file__).resolve().parent / "locales"


def _read(name: str) -> NullTranslations | None:
    from babel.support import Translations

    path = LOCALES_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not path.exists():
        return None
    with path.open("rb") as fh:
        return Translations(fh, domain=DOMAIN)


@lru_cache(maxsize=8)
def catalog(locale: str, formality: Formality = "formal") -> NullTranslations:
    """The catalog of `locale` (English for one we do not write), informal when asked and
    the language has an informal form.  Read once per container."""
    name = locale if locale in LOCALES else DEFAULT_LOCALE
    base = _read(name)
    if base is None:  # the catalogs ship with the code: missing is a packaging bug
        raise FileNotFoundError(f"no compiled catalog for {name} in {LOCALES_DIR}")
    if formality == "informal":
        informal = _read(f"{name}@informal")
        if informal is not None:
            informal.add_fallback(base)
            return informal
    return base


class Words(Mapping[str, str]):
    """The messages of one language and form, looked up by id: `words["join.title"]`
    (a KeyError for an id no catalog has), `words.plural("invitation.expiry", 3)`."""

    def __init__(self, locale: str, formality: Formality = "formal") -> None:
        self.locale = locale if locale in LOCALES else DEFAULT_LOCALE
        self.formality = formality
        self._catalog = catalog(self.locale, formality)

    def __getitem__(self, key: str) -> str:
        text = self._catalog.gettext(key)
        if text != key:
            return text
        raise KeyError(key)

    def plural(self, key: str, n: int) -> str:
        """The form of message `key` for the number `n` (French: "1 jour", "7 jours")."""
        text = self._catalog.ngettext(key, f"{key}.plural", n)
        if text in (key, f"{key}.plural"):
            raise KeyError(key)
        return text

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(_ids(self._catalog)))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _ids(translations: NullTranslations) -> set[str]:
    """The message ids of a catalog and its fallbacks (a plural message's once)."""
    ids: set[str] = set()
    current: NullTranslations | None = translations
    while current is not None:
        for key in getattr(current, "_catalog", {}):
            msgid = key if isinstance(key, str) else key[0]  # plurals: (msgid, form)
            if msgid:
                ids.add(msgid)
        current = getattr(current, "_fallback", None)
    return ids


def words(locale: str, formality: str = "formal") -> Words:
    """The messages to write to a reader in `locale`; `formality` as the workspace set it
    (anything but `informal` is formal)."""
    return Words(locale, "informal" if formality == "informal" else "formal")
