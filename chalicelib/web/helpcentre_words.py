"""Help-centre words not in `chalicelib.web.i18n` yet, and dates written per locale.

`HC_MESSAGES` has the shape of the i18n messages ({"en": {"id": "text"}, "fr": {...}}), so
that it can move into the catalogs as it is; French addresses the visitor with "vous"."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

HC_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "hc.page_title": "Help centre",
        "hc.language_switch": "Language",
        "hc.contact": "Contact us",
        "hc.still_need_help": "Still need help?",
        "hc.still_need_help_hint": "Our team answers every message.",
        "hc.contact_title": "Contact us",
        "hc.contact_intro": "Tell us what you need and we will reply by e-mail.",
        "hc.contact_name": "Your name",
        "hc.contact_email": "Your e-mail address",
        "hc.contact_subject": "Subject",
        "hc.contact_message": "How can we help?",
        "hc.contact_send": "Send",
        "hc.contact_sent": "Thank you: your message has reached our team. We will reply by e-mail.",
        "hc.contact_invalid": "Please check the fields below.",
        "hc.contact_expired": "This form has expired. Please send it again.",
        "hc.contact_too_many": "Too many messages from you. Please try again in an hour.",
        "hc.contact_not_verified": "We could not verify that you are human. Please try again.",
        "hc.footer_powered": "Powered by Helptal",
        "hc.unknown_centre": "This help centre does not exist.",
        "hc.unknown_centre_hint": "Check the address, or ask the company for its help link.",
    },
    "fr": {
        "hc.page_title": "Centre d'aide",
        "hc.language_switch": "Langue",
        "hc.contact": "Nous contacter",
        "hc.still_need_help": "Besoin d'aide supplémentaire ?",
        "hc.still_need_help_hint": "Notre équipe répond à chaque message.",
        "hc.contact_title": "Nous contacter",
        "hc.contact_intro": (
            "Dites-nous ce dont vous avez besoin : nous vous répondrons par e-mail."
        ),
        "hc.contact_name": "Votre nom",
        "hc.contact_email": "Votre adresse e-mail",
        "hc.contact_subject": "Objet",
        "hc.contact_message": "Comment pouvons-nous vous aider ?",
        "hc.contact_send": "Envoyer",
        "hc.contact_sent": (
            "Merci : votre message est bien parvenu à notre équipe. "
            "Nous vous répondrons par e-mail."
        ),
        "hc.contact_invalid": "Veuillez vérifier les champs ci-dessous.",
        "hc.contact_expired": "Ce formulaire a expiré. Veuillez l'envoyer de nouveau.",
        "hc.contact_too_many": (
            "Vous avez envoyé trop de messages. Veuillez réessayer dans une heure."
        ),
        "hc.contact_not_verified": (
            "Nous n'avons pas pu vérifier que vous n'êtes pas un robot. Veuillez réessayer."
        ),
        "hc.footer_powered": "Propulsé par Helptal",
        "hc.unknown_centre": "Ce centre d'aide n'existe pas.",
        "hc.unknown_centre_hint": (
            "Vérifiez l'adresse, ou demandez à l'entreprise le lien de son centre d'aide."
        ),
    },
}

_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
}  # fmt: skip


def format_date(day: date, locale: str) -> str:
    """`30 November 2026` in English, `30 novembre 2026` (`1er` for the first) in French."""
    months = _MONTHS.get(locale, _MONTHS["en"])
    number = "1er" if locale == "fr" and day.day == 1 else str(day.day)
    return f"{number} {months[day.month - 1]} {day.year}"


class PageWords:
    """The words of a help-centre page (`t["hc.contact"]`): these first, then those of
    `chalicelib.web.i18n`."""

    def __init__(self, locale: str, shared: Mapping[str, str]) -> None:
        self.locale = locale
        self._own = HC_MESSAGES.get(locale, HC_MESSAGES["en"])
        self._shared = shared

    def __getitem__(self, key: str) -> str:
        if key in self._own:
            return self._own[key]
        return self._shared[key]
