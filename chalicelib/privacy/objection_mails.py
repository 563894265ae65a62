"""The mails of an objection to a sub-processor change, to the workspace's owners: the
objection was received (with what confirming the termination means), and the subscription
ended (with the refund and the processor it went back through).  English or French, as each
owner reads Helptal (their profile's language, else the workspace's); French says "vous".

Each mail's id is deterministic, `privacy:<workspace>:<objection>:<kind>:user-<id>`, and is
queued with `send_once`: a step asked again mails no one twice.  The words sit here, in both
languages (checked by tests/unit/test_privacy_objection_mails.py), as billing's do."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from chalicelib.accounts.model import Workspace
from chalicelib.accounts.owner_readers import owner_readers
from chalicelib.billing.mails import PROCESSOR_NAMES, format_day, format_money
from chalicelib.mail.outbound import OutboundMail

if TYPE_CHECKING:
    from chalicelib.privacy.model import PlannedChange
    from chalicelib.privacy.objections import Objection, ObjectionDeps

KINDS = ("objection_received", "subscription_terminated")
PURPOSE = "privacy"

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello {name},",
        "greeting.anonymous": "Hello,",
        "signature": "The Helptal team",
        "link": "Settings > Privacy",
        "change": "The planned change: {summary} It takes effect on {date}.",
        "objection_received.subject": "Your objection to a sub-processor change for "
        "{workspace} is recorded",
        "objection_received.intro": "We recorded the objection of the Helptal workspace "
        "{workspace} to a planned change of Helptal's sub-processors.",
        "objection_received.reason": "The reason given: {reason}",
        "objection_received.remedy": "If you object on data-protection grounds, you may "
        "terminate the workspace's subscription as your sole remedy; the prepaid fees for "
        "the unused part of the term are then refunded. Until an owner confirms the "
        "termination, nothing changes. To confirm it, open Settings > Privacy:",
        "subscription_terminated.subject": "The subscription of {workspace} has ended after "
        "your objection",
        "subscription_terminated.intro": "Following your objection to a planned change of "
        "Helptal's sub-processors, the subscription of the Helptal workspace {workspace} "
        "has ended. The workspace is now on the Free plan.",
        "subscription_terminated.refund": "We refunded {amount} for the unused part of the "
        "term through {processor}, to the card or account that paid it. Depending on your "
        "bank, it shows on your statement within 5 to 10 business days.",
        "subscription_terminated.nothing": "Nothing was left to refund for the unused part "
        "of the term.",
        "subscription_terminated.kept": "Nothing was deleted: your team can still sign in, "
        "read and export the workspace's data.",
        "subscription_terminated.more": "The objection and the refund are shown in "
        "Settings > Privacy:",
    },
    "fr": {
        "greeting": "Bonjour {name},",
        "greeting.anonymous": "Bonjour,",
        "signature": "L'équipe Helptal",
        "link": "Paramètres > Confidentialité",
        "change": "Le changement prévu : {summary} Il prend effet le {date}.",
        "objection_received.subject": "Votre objection à un changement de sous-traitant "
        "pour l'espace {workspace} est enregistrée",
        "objection_received.intro": "Nous avons enregistré l'objection de l'espace Helptal "
        "{workspace} à un changement prévu des sous-traitants de Helptal.",
        "objection_received.reason": "Le motif indiqué : {reason}",
        "objection_received.remedy": "Si vous vous y opposez pour des raisons de protection "
        "des données, vous pouvez résilier l'abonnement de l'espace, ce qui constitue votre "
        "seul recours ; les sommes payées d'avance pour la partie non utilisée de la "
        "période vous sont alors remboursées. Tant qu'un propriétaire ne confirme pas la "
        "résiliation, rien ne change. Pour la confirmer, ouvrez Paramètres > "
        "Confidentialité :",
        "subscription_terminated.subject": "L'abonnement de l'espace {workspace} a pris fin "
        "à la suite de votre objection",
        "subscription_terminated.intro": "À la suite de votre objection à un changement "
        "prévu des sous-traitants de Helptal, l'abonnement de l'espace Helptal {workspace} "
        "a pris fin. L'espace est désormais sur l'offre Free.",
        "subscription_terminated.refund": "Nous avons remboursé {amount} pour la partie non "
        "utilisée de la période, via {processor}, sur la carte ou le compte qui l'avait "
        "payée. Selon votre banque, le remboursement apparaîtra sur votre relevé sous 5 à "
        "10 jours ouvrés.",
        "subscription_terminated.nothing": "Il ne restait rien à rembourser pour la partie "
        "non utilisée de la période.",
        "subscription_terminated.kept": "Rien n'a été supprimé : votre équipe peut toujours "
        "se connecter, consulter et exporter les données de l'espace.",
        "subscription_terminated.more": "L'objection et le remboursement sont indiqués dans "
        "Paramètres > Confidentialité :",
    },
}


def mail_id(objection: Objection, kind: str, who: str) -> str:
    return f"privacy:{objection.workspace_id}:{objection.id}:{kind}:{who}"


def render(
    kind: str,
    objection: Objection,
    change: PlannedChange | None,
    workspace: Workspace,
    name: str,
    language: str,
    link: str,
) -> tuple[str, str, str]:
    """(subject, text, html) of one owner's mail; what people wrote is escaped in HTML."""
    if kind not in KINDS:
        raise ValueError(f"unknown privacy mail {kind!r}")
    words = WORDS[language]
    subject = words[f"{kind}.subject"].format(workspace=workspace.name)
    paragraphs = [
        words["greeting"].format(name=name) if name else words["greeting.anonymous"],
        words[f"{kind}.intro"].format(workspace=workspace.name),
    ]
    if change is not None:
        summary = change.summary.fr if language == "fr" else change.summary.en
        date = format_day(change.effective_at, workspace.timezone, language)
        paragraphs.append(words["change"].format(summary=summary.strip(), date=date))
    if kind == "objection_received":
        paragraphs.append(words["objection_received.reason"].format(reason=objection.reason))
        paragraphs.append(words["objection_received.remedy"])
    else:
        if objection.refund is not None and objection.refunded_through is not None:
            paragraphs.append(
                words["subscription_terminated.refund"].format(
                    amount=format_money(objection.refund, language),
                    processor=PROCESSOR_NAMES[objection.refunded_through],
                )
            )
        else:
            paragraphs.append(words["subscription_terminated.nothing"])
        paragraphs.append(words["subscription_terminated.kept"])
        paragraphs.append(words["subscription_terminated.more"])
    text = "\n\n".join([*paragraphs, link, words["signature"]]) + "\n"
    html = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    html += f'<p><a href="{escape(link, quote=True)}">{escape(words["link"])}</a></p>'
    html += f"<p>{escape(words['signature'])}</p>"
    return subject, text, html


def send(deps: ObjectionDeps, kind: str, objection: Objection, change: PlannedChange | None) -> int:
    """Queues the mail of `kind` to every owner (once per mail id); how many were queued
    now for the first time.  Reads the workspace and its owners."""
    workspace = deps.accounts.get_workspace(objection.workspace_id)
    if workspace is None:
        return 0
    queued = 0
    for owner in owner_readers(deps.accounts, workspace):
        who, name, address, language = owner.who, owner.name, owner.email, owner.locale
        subject, text, html = render(
            kind, objection, change, workspace, name, language, deps.privacy_screen
        )
        mail = OutboundMail(
            mail_id=mail_id(objection, kind, who),
            workspace_id=objection.workspace_id,
            purpose=PURPOSE,
            from_name="Helptal",
            to=[address],
            subject=subject,
            text=text,
            html=html,
            tags=["privacy", f"privacy-{kind.replace('_', '-')}"],
        )
        queued += bool(deps.mail.send_once(mail))
    return queued
