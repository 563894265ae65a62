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


_FORWARDING_CONFIRMATION = {
    "en": {
        "subject": "Confirm that {workspace} on Helptal may receive mail sent to {address}",
        "intro": "The {workspace} team asked Helptal, their helpdesk, to receive the mail sent "
        "to {address}.",
        "forward": "If you own this address and agree, forward its mail to {forward_to}: "
        "this e-mail, once forwarded, confirms it on its own.",
        "code": "Or give the {workspace} team this confirmation code: {code}",
        "expiry": "The code expires in 7 days.",
        "ignore": "If you did not expect this e-mail, ignore it: nothing changes without "
        "your confirmation.",
        "token": "Confirmation reference (used by Helptal, keep it in the message): {token}",
    },
    "fr": {
        "subject": "Confirme que {workspace} sur Helptal peut recevoir le courrier envoyé à "
        "{address}",
        "intro": "L'équipe {workspace} a demandé à Helptal, son outil de support, de recevoir "
        "le courrier envoyé à {address}.",
        "forward": "Si cette adresse est la tienne et que tu es d'accord, transfère son "
        "courrier à {forward_to} : cet e-mail, une fois transféré, la confirme tout seul.",
        "code": "Ou donne à l'équipe {workspace} ce code de confirmation : {code}",
        "expiry": "Le code expire dans 7 jours.",
        "ignore": "Si tu n'attendais pas cet e-mail, ignore-le : rien ne change sans ta "
        "confirmation.",
        "token": "Référence de confirmation (utilisée par Helptal, garde-la dans le message) : "
        "{token}",
    },
}


def forwarding_confirmation_mail(
    locale: str, *, workspace: str, address: str, forward_to: str, code: str, token: str
) -> RenderedMail:
    """The e-mail sent to a forwarding address before it may route mail: a code for a person
    to pass on, and a token the inbound path recognises when the mail comes back forwarded.
    Names are escaped in HTML; there is no link (a link scanner must not confirm)."""
    words = _FORWARDING_CONFIRMATION.get(locale, _FORWARDING_CONFIRMATION["en"])
    values = {
        "workspace": workspace,
        "address": address,
        "forward_to": forward_to,
        "code": code,
        "token": token,
    }
    paragraphs = ["intro", "forward", "code", "expiry", "ignore", "token"]
    subject = " ".join(words["subject"].format(**values).split())
    text = "\n\n".join(words[name].format(**values) for name in paragraphs) + "\n"
    html_values = {k: escape(v) for k, v in values.items()}
    html = "".join(f"<p>{escape(words[name]).format(**html_values)}</p>" for name in paragraphs)
    return RenderedMail(subject=subject, text=text, html=html)


_SIGNUP_WITH_EXISTING_ACCOUNT = {
    "en": {
        "subject": "Someone tried to sign up to Helptal with your e-mail address",
        "intro": "Someone, perhaps you, tried to create the workspace “{workspace}” on Helptal "
        "with this e-mail address. It already has a Helptal account, so no workspace was "
        "created and your account is unchanged.",
        "cta": "Log in to Helptal",
        "ignore": "If it was not you, you can ignore this e-mail: nobody can use your account "
        "without your password.",
    },
    "fr": {
        "subject": "Quelqu'un a essayé de s'inscrire sur Helptal avec ton adresse e-mail",
        "intro": "Quelqu'un, peut-être toi, a essayé de créer l'espace « {workspace} » sur "
        "Helptal avec cette adresse e-mail. Elle a déjà un compte Helptal : aucun espace n'a "
        "été créé et ton compte n'a pas changé.",
        "cta": "Se connecter à Helptal",
        "ignore": "Si ce n'était pas toi, tu peux ignorer cet e-mail : personne ne peut "
        "utiliser ton compte sans ton mot de passe.",
    },
}


def signup_with_existing_account_mail(
    locale: str, *, workspace: str, login_url: str
) -> RenderedMail:
    """Tells the owner of an address that a sign-up was tried with it (the sign-up's answer
    does not say so: nobody learns from it which addresses have an account)."""
    words = _SIGNUP_WITH_EXISTING_ACCOUNT.get(locale, _SIGNUP_WITH_EXISTING_ACCOUNT["en"])
    intro = words["intro"].format(workspace=workspace)
    text = f"{intro}\n\n{words['cta']}: {login_url}\n\n{words['ignore']}\n"
    html = (
        f"<p>{escape(words['intro']).format(workspace=escape(workspace))}</p>"
        f'<p><a href="{escape(login_url, quote=True)}">{escape(words["cta"])}</a></p>'
        f"<p>{escape(words['ignore'])}</p>"
    )
    return RenderedMail(subject=words["subject"], text=text, html=html)
