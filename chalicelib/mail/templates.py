"""Customer-facing system e-mails, in English and French (words from the gettext catalogs,
chalicelib/translations.py).  `formality`: the workspace's choice of "vous" (formal, the
default) or "tu" (informal) in French."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from chalicelib.translations import LOCALES, words

SUPPORTED_LOCALES = LOCALES


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def invitation_mail(
    locale: str,
    *,
    inviter: str,
    workspace: str,
    role: str,
    accept_url: str,
    days: int = 7,
    formality: str = "formal",
) -> RenderedMail:
    """The invitation e-mail; names are escaped in HTML, the link is the only call to action.
    `days`: how long the link works."""
    w = words(locale, formality)
    values = {"inviter": inviter, "workspace": workspace}
    subject = w["invitation.subject"].format(**values)
    intro = w[f"invitation.intro.{role}"]
    expiry = w.plural("invitation.expiry", days).format(days=days)
    text = (
        f"{intro.format(**values)}\n\n{w['invitation.cta']}: {accept_url}\n\n"
        f"{expiry}\n{w['invitation.ignore']}\n"
    )
    html_values = {k: escape(v) for k, v in values.items()}
    html = (
        f"<p>{escape(intro).format(**html_values)}</p>"
        f'<p><a href="{escape(accept_url, quote=True)}">{escape(w["invitation.cta"])}</a></p>'
        f"<p>{escape(expiry)}<br>{escape(w['invitation.ignore'])}</p>"
    )
    return RenderedMail(subject=subject, text=text, html=html)


def forwarding_confirmation_mail(
    locale: str,
    *,
    workspace: str,
    address: str,
    forward_to: str,
    code: str,
    token: str,
    days: int = 7,
    formality: str = "formal",
) -> RenderedMail:
    """The e-mail sent to a forwarding address before it may route mail: a code for a person
    to pass on, and a token the inbound path recognises when the mail comes back forwarded.
    Names are escaped in HTML; there is no link (a link scanner must not confirm)."""
    w = words(locale, formality)
    values = {
        "workspace": workspace,
        "address": address,
        "forward_to": forward_to,
        "code": code,
        "token": token,
    }
    templates = [
        w["forwarding.intro"],
        w["forwarding.forward"],
        w["forwarding.code"],
        w.plural("forwarding.expiry", days).replace("{days}", str(days)),
        w["forwarding.ignore"],
        w["forwarding.token"],
    ]
    subject = " ".join(w["forwarding.subject"].format(**values).split())
    text = "\n\n".join(t.format(**values) for t in templates) + "\n"
    html_values = {k: escape(v) for k, v in values.items()}
    html = "".join(f"<p>{escape(t).format(**html_values)}</p>" for t in templates)
    return RenderedMail(subject=subject, text=text, html=html)


def signup_with_existing_account_mail(
    locale: str, *, workspace: str, login_url: str, formality: str = "formal"
) -> RenderedMail:
    """Tells the owner of an address that a sign-up was tried with it (the sign-up's answer
    does not say so: nobody learns from it which addresses have an account)."""
    w = words(locale, formality)
    intro = w["signup_existing.intro"]
    cta, ignore = w["signup_existing.cta"], w["signup_existing.ignore"]
    text = f"{intro.format(workspace=workspace)}\n\n{cta}: {login_url}\n\n{ignore}\n"
    html = (
        f"<p>{escape(intro).format(workspace=escape(workspace))}</p>"
        f'<p><a href="{escape(login_url, quote=True)}">{escape(cta)}</a></p>'
        f"<p>{escape(ignore)}</p>"
    )
    return RenderedMail(subject=w["signup_existing.subject"], text=text, html=html)


def _account_mail(
    subject: str, paragraphs_before: list[str], cta: str, url: str, after: list[str]
) -> RenderedMail:
    """A mail to a Helptal user with one link: text and HTML alike (words already filled)."""
    text = "\n\n".join([*paragraphs_before, f"{cta}: {url}", *after]) + "\n"
    html = (
        "".join(f"<p>{escape(p)}</p>" for p in paragraphs_before)
        + f'<p><a href="{escape(url, quote=True)}">{escape(cta)}</a></p>'
        + "".join(f"<p>{escape(p)}</p>" for p in after)
    )
    return RenderedMail(subject=subject, text=text, html=html)


def email_confirmation_mail(
    locale: str, *, name: str, workspace: str, url: str, days: int, formality: str = "formal"
) -> RenderedMail:
    """Asks the owner who signed up to confirm their address."""
    w = words(locale, formality)
    return _account_mail(
        w["confirm.subject"],
        [w["confirm.greeting"].format(name=name), w["confirm.intro"].format(workspace=workspace)],
        w["confirm.cta"],
        url,
        [w.plural("invitation.expiry", days).format(days=days), w["confirm.ignore"]],
    )


def password_reset_mail(locale: str, *, name: str, url: str) -> RenderedMail:
    """The link to choose a new password (it says the link works once, for an hour:
    email_links.RESET_LINK_SECONDS)."""
    w = words(locale)
    return _account_mail(
        w["reset.subject"],
        [w["confirm.greeting"].format(name=name), w["reset.intro"]],
        w["reset.cta"],
        url,
        [w["reset.expiry"], w["reset.ignore"]],
    )


def two_factor_reset_mail(locale: str, *, name: str, by: str, workspace: str) -> RenderedMail:
    """Tells a person that an owner or admin turned their two-factor sign-in off."""
    w = words(locale)
    intro = w["two_factor_reset.intro"].format(by=by or "?", workspace=workspace)
    paragraphs = [w["confirm.greeting"].format(name=name), intro, w["two_factor_reset.next"]]
    return RenderedMail(
        subject=w["two_factor_reset.subject"],
        text="\n\n".join([*paragraphs, w["two_factor_reset.not_you"]]) + "\n",
        html="".join(f"<p>{escape(p)}</p>" for p in [*paragraphs, w["two_factor_reset.not_you"]]),
    )
