"""The mails of a workspace's deletion, to every member: it is scheduled (when, what goes,
that an owner can cancel until then and that the data can be exported), and it was
cancelled.  English or French, as each member reads Helptal (their profile's language, else
the workspace's); French says "vous".

Each mail's id is deterministic, `workspace-deletion:<workspace>:<deletion>:<kind>:user-<id>`,
and is queued with `send_once`: a request asked again mails no one twice.  The words sit
here, in both languages (checked by tests/unit/test_workspace_deletion_mails.py), as the
other privacy mails' do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from chalicelib.accounts.model import Workspace
from chalicelib.accounts.owner_readers import MEMBERS_PAGE, MemberDirectory, language
from chalicelib.billing.mails import format_day
from chalicelib.mail.outbound import OutboundMail

if TYPE_CHECKING:
    from chalicelib.privacy.workspace_deletion import DeletionDeps, WorkspaceDeletion

KINDS = ("scheduled", "cancelled")
PURPOSE = "workspace_deletion"

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello {name},",
        "greeting.anonymous": "Hello,",
        "signature": "The Helptal team",
        "link": "Settings > Workspace",
        "someone": "An owner",
        "scheduled.subject": "The Helptal workspace {workspace} will be deleted on {date}",
        "scheduled.intro": "{by} asked for the Helptal workspace {workspace} to be deleted. "
        "It will be deleted on {date} at {time} ({zone}).",
        "scheduled.what": "Everything in it will then be removed for good: tickets and chats "
        "with their messages and attachments, contacts, knowledge-base articles, bookings, "
        "settings and memberships. Its paid subscription ends that day. Your Helptal account "
        "stays, with any other workspace you belong to.",
        "scheduled.cancel": "Until then an owner can cancel the deletion, and owners and "
        "admins can export the workspace's data in Settings:",
        "cancelled.subject": "The deletion of the Helptal workspace {workspace} was cancelled",
        "cancelled.intro": "{by} cancelled the deletion of the Helptal workspace {workspace}. "
        "Nothing was deleted: the workspace stays as it was.",
        "cancelled.more": "The workspace's settings:",
    },
    "fr": {
        "greeting": "Bonjour {name},",
        "greeting.anonymous": "Bonjour,",
        "signature": "L'équipe Helptal",
        "link": "Paramètres > Espace de travail",
        "someone": "Un propriétaire",
        "scheduled.subject": "L'espace de travail Helptal {workspace} sera supprimé le {date}",
        "scheduled.intro": "{by} a demandé la suppression de l'espace de travail Helptal "
        "{workspace}. Il sera supprimé le {date} à {time} ({zone}).",
        "scheduled.what": "Tout son contenu sera alors définitivement effacé : les tickets et "
        "les conversations avec leurs messages et pièces jointes, les contacts, les articles "
        "de la base de connaissances, les réservations, les paramètres et les adhésions. Son "
        "abonnement payant prend fin ce jour-là. Votre compte Helptal est conservé, ainsi que "
        "les autres espaces de travail dont vous êtes membre.",
        "scheduled.cancel": "D'ici là, un propriétaire peut annuler la suppression, et les "
        "propriétaires et administrateurs peuvent exporter les données de l'espace, dans "
        "les paramètres :",
        "cancelled.subject": "La suppression de l'espace de travail Helptal {workspace} a été "
        "annulée",
        "cancelled.intro": "{by} a annulé la suppression de l'espace de travail Helptal "
        "{workspace}. Rien n'a été supprimé : l'espace reste tel quel.",
        "cancelled.more": "Les paramètres de l'espace :",
    },
}


@dataclass(frozen=True)
class MemberReader:
    user_id: str
    name: str
    email: str
    locale: str  # "en" or "fr"


def member_readers(directory: MemberDirectory, workspace: Workspace) -> list[MemberReader]:
    """Every member once by address, in the language of their profile (else the workspace's).
    Reads the members page by page and each member's user."""
    found: list[MemberReader] = []
    seen: set[str] = set()
    cursor: str | None = None
    while True:
        page = directory.list_members(workspace.id, cursor, MEMBERS_PAGE)
        for member in page.entries:
            address = member.email.strip().lower()
            if not address or address in seen:
                continue
            user = directory.get_user(member.user_id)
            locale = (user.locale if user is not None else None) or workspace.locale
            found.append(MemberReader(member.user_id, member.name, address, language(locale)))
            seen.add(address)
        cursor = page.next_cursor
        if cursor is None:
            return found


def mail_id(deletion: WorkspaceDeletion, kind: str, user_id: str) -> str:
    return f"workspace-deletion:{deletion.workspace_id}:{deletion.id}:{kind}:user-{user_id}"


def _local(moment: datetime, zone: str) -> tuple[datetime, str]:
    try:
        return moment.astimezone(ZoneInfo(zone)), zone
    except (ValueError, KeyError, OSError):  # a zone that no longer opens: say it in UTC
        return moment, "UTC"


def render(
    kind: str,
    workspace: Workspace,
    deletion: WorkspaceDeletion,
    name: str,
    by: str | None,
    lang: str,
    link: str,
) -> tuple[str, str, str]:
    """(subject, text, html) of one member's mail; names people wrote are escaped in HTML."""
    if kind not in KINDS:
        raise ValueError(f"unknown workspace deletion mail {kind!r}")
    words = WORDS[lang]
    local, zone = _local(deletion.delete_at, workspace.timezone)
    date = format_day(deletion.delete_at, zone, lang)
    values = {
        "workspace": workspace.name,
        "date": date,
        "time": local.strftime("%H:%M"),
        "zone": zone,
        "by": by or words["someone"],
    }
    subject = words[f"{kind}.subject"].format(**values)
    paragraphs = [
        words["greeting"].format(name=name) if name else words["greeting.anonymous"],
        words[f"{kind}.intro"].format(**values),
    ]
    if kind == "scheduled":
        paragraphs += [words["scheduled.what"], words["scheduled.cancel"]]
    else:
        paragraphs.append(words["cancelled.more"])
    text = "\n\n".join([*paragraphs, link, words["signature"]]) + "\n"
    html = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    html += f'<p><a href="{escape(link, quote=True)}">{escape(words["link"])}</a></p>'
    html += f"<p>{escape(words['signature'])}</p>"
    return subject, text, html


def send(
    deps: DeletionDeps, workspace: Workspace, deletion: WorkspaceDeletion, kind: str, actor: str
) -> int:
    """Queues the mail of `kind` to every member (once per mail id); how many were queued now
    for the first time.  Reads the members and their users."""
    readers = member_readers(deps.accounts, workspace)
    by = next((r.name for r in readers if f"user:{r.user_id}" == actor), None)
    queued = 0
    for reader in readers:
        subject, text, html = render(
            kind, workspace, deletion, reader.name, by, reader.locale, deps.settings_link
        )
        mail = OutboundMail(
            mail_id=mail_id(deletion, kind, reader.user_id),
            workspace_id=workspace.id,
            purpose=PURPOSE,
            from_name="Helptal",
            to=[reader.email],
            subject=subject,
            text=text,
            html=html,
            tags=["workspace-deletion", f"workspace-deletion-{kind}"],
        )
        queued += bool(deps.mail.send_once(mail))
    return queued
