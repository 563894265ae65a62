"""The mails billing sends to a workspace's owners (and its billing address): a payment
failed, the grace period started (with the day it becomes read-only), it became read-only,
a payment came in after a failure, the trial ended, a refund was issued, the subscription
ended.  English or French, as each reader reads Helptal: their profile's language, else the
workspace's.  French says "vous" (these go to the team, not to its customers).

Each mail's id is deterministic, `billing:<workspace>:<about>:<kind>:<reader>`, and is
queued with `send_once`: a step run again (a webhook delivered twice, a retried job) mails
no one twice.  The words sit here, in both languages (checked by
tests/unit/test_billing_mails.py), until they move into the gettext catalogs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape
from zoneinfo import ZoneInfo

from chalicelib.accounts.model import Workspace
from chalicelib.accounts.owner_readers import Reader, language, owner_readers
from chalicelib.billing.deps import BillingDeps
from chalicelib.billing.model import Card, Money, Processor
from chalicelib.mail.outbound import OutboundMail

KINDS = (
    "payment_failed",
    "grace_started",
    "read_only",
    "restored",
    "trial_ended",
    "refund_issued",
    "subscription_canceled",
)
PURPOSE = "billing"
PROCESSOR_NAMES = {
    Processor.STRIPE: "Stripe",
    Processor.TAPPAY: "TapPay",
    Processor.PAYPAL: "PayPal",
}

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello {name},",
        "greeting.anonymous": "Hello,",
        "signature": "The Helptal team",
        "link": "Billing",
        "keeps": "While read-only, your team can still read and export everything, and "
        "incoming mail and chats are still received: nothing is lost.",
        "kept": "Nothing was deleted: what your team made with features beyond the Free plan "
        "is still there.",
        "payment_failed.subject": "The payment for {workspace} failed",
        "payment_failed.intro": "We could not take the payment of {amount} for the Helptal "
        "workspace {workspace}.",
        "payment_failed.next": "It will be tried again automatically over the next few days. "
        "To pay it now, or to change the card, open the billing page:",
        "grace_started.subject": "{workspace} becomes read-only on {date} unless the invoice "
        "is paid",
        "grace_started.intro": "Every attempt to take the payment for the Helptal workspace "
        "{workspace} has failed.",
        "grace_started.amount": "The amount due is {amount}.",
        "grace_started.deadline": "Pay the open invoice before {date} to keep working as "
        "usual. After that day the workspace is read-only until the invoice is paid:",
        "read_only.subject": "{workspace} is now read-only",
        "read_only.intro": "The open invoice of the Helptal workspace {workspace} was not paid "
        "in time, so the workspace is now read-only.",
        "read_only.restore": "As soon as the invoice is paid, everything works as usual again:",
        "restored.subject": "Payment received: {workspace} is fully active again",
        "restored.intro": "We received the payment of {amount} for the Helptal workspace "
        "{workspace}. Thank you: everything works as usual again.",
        "restored.backup_card": "It was charged to your backup card ({brand} ending in {last4}).",
        "trial_ended.subject": "The trial of {workspace} has ended",
        "trial_ended.intro": "The {days}-day trial of the Helptal workspace {workspace} has "
        "ended. The workspace is now on the Free plan, for up to {seats} members.",
        "trial_ended.choose": "Choose a plan to keep using the features of {plan}:",
        "refund_issued.subject": "Refund of {amount} for {workspace}",
        "refund_issued.intro": "We refunded {amount} for the unused part of the subscription "
        "of the Helptal workspace {workspace}, through {processor}, to the card or account "
        "that paid it.",
        "refund_issued.delay": "Depending on your bank, it shows on your statement within 5 "
        "to 10 business days.",
        "subscription_canceled.subject": "The subscription of {workspace} has ended",
        "subscription_canceled.intro": "The {plan} subscription of the Helptal workspace "
        "{workspace} has ended. The workspace is now on the Free plan.",
        "subscription_canceled.again": "You can subscribe again at any time:",
    },
    "fr": {
        "greeting": "Bonjour {name},",
        "greeting.anonymous": "Bonjour,",
        "signature": "L'équipe Helptal",
        "link": "Facturation",
        "keeps": "En lecture seule, votre équipe peut toujours tout consulter et exporter, et "
        "les e-mails et conversations entrants continuent d'arriver : rien n'est perdu.",
        "kept": "Rien n'a été supprimé : ce que votre équipe a créé avec des fonctions hors "
        "de l'offre Free est toujours là.",
        "payment_failed.subject": "Le paiement pour l'espace {workspace} a échoué",
        "payment_failed.intro": "Nous n'avons pas pu encaisser le paiement de {amount} pour "
        "l'espace Helptal {workspace}.",
        "payment_failed.next": "Il sera retenté automatiquement dans les prochains jours. "
        "Pour le régler dès maintenant, ou pour changer de carte, ouvrez la page de "
        "facturation :",
        "grace_started.subject": "L'espace {workspace} passera en lecture seule le {date} si "
        "la facture n'est pas réglée",
        "grace_started.intro": "Toutes les tentatives de paiement pour l'espace Helptal "
        "{workspace} ont échoué.",
        "grace_started.amount": "Le montant dû est de {amount}.",
        "grace_started.deadline": "Réglez la facture en attente avant le {date} pour "
        "continuer à travailler normalement. Passé ce jour, l'espace sera en lecture seule "
        "jusqu'au paiement de la facture :",
        "read_only.subject": "L'espace {workspace} est désormais en lecture seule",
        "read_only.intro": "La facture en attente de l'espace Helptal {workspace} n'a pas été "
        "réglée à temps : l'espace est désormais en lecture seule.",
        "read_only.restore": "Dès que la facture est réglée, tout fonctionne de nouveau "
        "normalement :",
        "restored.subject": "Paiement reçu : l'espace {workspace} est de nouveau pleinement actif",
        "restored.intro": "Nous avons bien reçu le paiement de {amount} pour l'espace Helptal "
        "{workspace}. Merci : tout fonctionne de nouveau normalement.",
        "restored.backup_card": "Le montant a été prélevé sur votre carte de secours "
        "({brand} se terminant par {last4}).",
        "trial_ended.subject": "L'essai de l'espace {workspace} est terminé",
        "trial_ended.intro": "L'essai de {days} jours de l'espace Helptal {workspace} est "
        "terminé. L'espace est désormais sur l'offre Free, pour {seats} membres au plus.",
        "trial_ended.choose": "Choisissez une offre pour continuer à utiliser les fonctions "
        "de l'offre {plan} :",
        "refund_issued.subject": "Remboursement de {amount} pour l'espace {workspace}",
        "refund_issued.intro": "Nous avons remboursé {amount} pour la partie non utilisée de "
        "l'abonnement de l'espace Helptal {workspace}, via {processor}, sur la carte ou le "
        "compte qui l'avait payé.",
        "refund_issued.delay": "Selon votre banque, il apparaîtra sur votre relevé sous 5 à "
        "10 jours ouvrés.",
        "subscription_canceled.subject": "L'abonnement de l'espace {workspace} a pris fin",
        "subscription_canceled.intro": "L'abonnement {plan} de l'espace Helptal {workspace} a "
        "pris fin. L'espace est désormais sur l'offre Free.",
        "subscription_canceled.again": "Vous pouvez vous abonner de nouveau à tout moment :",
    },
}

# The paragraphs of each kind, in order; a paragraph whose values are missing is left out.
PARAGRAPHS: dict[str, tuple[str, ...]] = {
    "payment_failed": ("payment_failed.intro", "payment_failed.next"),
    "grace_started": (
        "grace_started.intro",
        "grace_started.amount",
        "grace_started.deadline",
        "keeps",
    ),
    "read_only": ("read_only.intro", "keeps", "read_only.restore"),
    "restored": ("restored.intro", "restored.backup_card"),
    "trial_ended": ("trial_ended.intro", "kept", "trial_ended.choose"),
    "refund_issued": ("refund_issued.intro", "refund_issued.delay"),
    "subscription_canceled": ("subscription_canceled.intro", "kept", "subscription_canceled.again"),
}
# Kinds whose last paragraph leads to the billing screen.
WITH_LINK = frozenset(
    {"payment_failed", "grace_started", "read_only", "trial_ended", "subscription_canceled"}
)


@dataclass(frozen=True)
class BillingNotice:
    """One thing to tell the owners: `kind` (one of KINDS) and `about`, what it concerns
    (an invoice id, a refund id, "trial", …): together they make the mail id."""

    kind: str
    about: str
    amount: Money | None = None
    date: datetime | None = None  # grace_started: when the workspace becomes read-only
    card: Card | None = None  # restored: the backup card charged
    plan_name: str = ""
    processor: Processor | None = None  # refund_issued
    days: int = 0  # trial_ended
    seats: int = 0  # trial_ended


def format_money(money: Money, locale: str) -> str:
    """`$147.00` in English, `147,00 $US` in French (minor units by the currency's digits)."""
    from babel.numbers import format_currency, get_currency_precision

    code = money.currency.upper()
    value = Decimal(money.amount).scaleb(-get_currency_precision(code))
    return str(format_currency(value, code, locale=locale))


def format_day(moment: datetime, zone: str, locale: str) -> str:
    """The day of `moment` in the workspace's zone: "March 10, 2026" / "10 mars 2026"."""
    from babel.dates import format_date

    try:
        local = moment.astimezone(ZoneInfo(zone))
    except (ValueError, KeyError, OSError):  # a zone that no longer opens: say it in UTC
        local = moment
    return str(format_date(local.date(), "long", locale=locale))


def readers(deps: BillingDeps, workspace: Workspace, billing_email: str | None) -> list[Reader]:
    """Every owner, in the language of their profile (else the workspace's), then the
    billing address when it is none of theirs."""
    found = owner_readers(deps.accounts, workspace)
    extra = (billing_email or "").strip().lower()
    if extra and extra not in {reader.email for reader in found}:
        found.append(Reader("billing-email", "", extra, language(workspace.locale)))
    return found


def mail_id(workspace_id: str, notice: BillingNotice, reader: Reader) -> str:
    return f"billing:{workspace_id}:{notice.about}:{notice.kind}:{reader.who}"


def _values(notice: BillingNotice, workspace: Workspace, language: str) -> dict[str, str]:
    values = {"workspace": workspace.name, "plan": notice.plan_name}
    if notice.amount is not None:
        values["amount"] = format_money(notice.amount, language)
    if notice.date is not None:
        values["date"] = format_day(notice.date, workspace.timezone, language)
    if notice.card is not None:
        values["brand"] = notice.card.brand.title()
        values["last4"] = notice.card.last4
    if notice.processor is not None:
        values["processor"] = PROCESSOR_NAMES[notice.processor]
    if notice.days:
        values["days"] = str(notice.days)
    if notice.seats:
        values["seats"] = str(notice.seats)
    return values


def render(
    notice: BillingNotice, workspace: Workspace, reader: Reader, link: str
) -> tuple[str, str, str]:
    """(subject, text, html) of one reader's mail; names are escaped in HTML."""
    if notice.kind not in PARAGRAPHS:
        raise ValueError(f"unknown billing mail {notice.kind!r}")
    words = WORDS[reader.locale]
    values = _values(notice, workspace, reader.locale)
    subject = words[f"{notice.kind}.subject"].format(**values)
    greeting = (
        words["greeting"].format(name=reader.name) if reader.name else words["greeting.anonymous"]
    )
    paragraphs = []
    for key in PARAGRAPHS[notice.kind]:
        try:
            paragraphs.append(words[key].format(**values))
        except KeyError:
            continue  # a detail this notice does not have (no amount, no card)
    text_parts = [greeting, *paragraphs]
    html_parts = [f"<p>{escape(p)}</p>" for p in text_parts]
    if notice.kind in WITH_LINK:
        text_parts.append(link)
        html_parts.append(
            f'<p><a href="{escape(link, quote=True)}">{escape(words["link"])}</a></p>'
        )
    text_parts.append(words["signature"])
    html_parts.append(f"<p>{escape(words['signature'])}</p>")
    return subject, "\n\n".join(text_parts) + "\n", "".join(html_parts)


def send(
    deps: BillingDeps, workspace_id: str, notice: BillingNotice, billing_email: str | None
) -> int:
    """Queues the mail of `notice` to every reader (once per mail id); how many were
    queued now for the first time.  Reads the workspace and its owners."""
    workspace = deps.accounts.get_workspace(workspace_id)
    if workspace is None:
        return 0
    link = deps.urls.billing_screen()
    queued = 0
    for reader in readers(deps, workspace, billing_email):
        subject, text, html = render(notice, workspace, reader, link)
        mail = OutboundMail(
            mail_id=mail_id(workspace_id, notice, reader),
            workspace_id=workspace_id,
            purpose=PURPOSE,
            from_name="Helptal",
            to=[reader.email],
            subject=subject,
            text=text,
            html=html,
            tags=["billing", f"billing-{notice.kind.replace('_', '-')}"],
        )
        queued += bool(deps.mail.send_once(mail))
    return queued
