"""Customer-facing system e-mails, in English and French."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

SUPPORTED_LOCALES = ("en", "fr")


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


_INVITATION = {
    "en": {
        "subject": "{inviter} invited you to {workspace} on Helptal",
        "intro": "{inviter} invited you to join the {workspace} support team on Helptal as {role}.",
        "cta": "Accept the invitation",
        "expiry": "This link works once and expires in 7 days.",
        "ignore": "If you did not expect this e-mail, you can ignore it.",
        "roles": {"owner": "an owner", "admin": "an admin", "agent": "an agent"},
    },
    "fr": {
        "subject": "{inviter} t'invite à rejoindre {workspace} sur Helptal",
        "intro": "{inviter} t'invite à rejoindre l'équipe support {workspace} sur Helptal "
        "en tant que {role}.",
        "cta": "Accepter l'invitation",
        "expiry": "Ce lien ne fonctionne qu'une fois et expire dans 7 jours.",
        "ignore": "Si tu n'attendais pas cet e-mail, tu peux l'ignorer.",
        "roles": {"owner": "propriétaire", "admin": "administrateur·rice", "agent": "agent"},
    },
}


def invitation_mail(
    locale: str, *, inviter: str, workspace: str, role: str, accept_url: str
) -> RenderedMail:
    """The invitation e-mail; names are escaped in HTML, the link is the only call to action."""
    words = _INVITATION.get(locale, _INVITATION["en"])
    role_label = words["roles"][role]  # type: ignore[index]
    values = {"inviter": inviter, "workspace": workspace, "role": role_label}
    subject = str(words["subject"]).format(**values)
    intro = str(words["intro"]).format(**values)
    text = f"{intro}\n\n{words['cta']}: {accept_url}\n\n{words['expiry']}\n{words['ignore']}\n"
    html_values = {k: escape(v) for k, v in values.items()}
    html = (
        f"<p>{escape(str(words['intro'])).format(**html_values)}</p>"
        f'<p><a href="{escape(accept_url, quote=True)}">{escape(str(words["cta"]))}</a></p>'
        f"<p>{escape(str(words['expiry']))}<br>{escape(str(words['ignore']))}</p>"
    )
    return RenderedMail(subject=subject, text=text, html=html)
