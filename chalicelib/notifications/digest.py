"""The e-mail digest: every few minutes, each agent with notifications waiting gets one mail
listing those they want by e-mail and have not read in the app meanwhile.

Each notification is mailed at most once: the digest's transaction deletes its waiting copy
under `attribute_exists` and records the mail; a run holds an agent's digest with a lease,
so overlapping runs never mail one agent twice at once.  The mail recorded is kept on the
digest until it is on the mail-out queue, so a run cut short between the two queues it next
time (the mail-out worker sends one mail id once)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape

from chalicelib.accounts.model import User, Workspace
from chalicelib.ids import new_id
from chalicelib.mail.outbound import OutboundMail
from chalicelib.notifications.deps import NotificationDeps
from chalicelib.notifications.model import Notification
from chalicelib.notifications.ports import DigestChanged, DigestLease, WaitingMail
from chalicelib.observability import logger
from chalicelib.translations import Words, words

LEASE_SECONDS = 120


@dataclass
class DigestRun:
    due: int = 0
    mailed: int = 0  # digests recorded and queued
    notifications: int = 0  # notifications in them
    skipped: int = 0  # held by another run, or changed meanwhile


def digest_language(workspace: Workspace, user: User | None) -> tuple[str, str]:
    """The language and French form of an agent's mail: the one their profile chose
    (`User.locale`), else the workspace's; French says "vous" or "tu" as the workspace does."""
    own = user.locale if user is not None else None
    return own or workspace.locale, workspace.formality


def _line(w: Words, notification: Notification) -> str:
    values = {
        "number": str(notification.ticket_number),
        "subject": notification.ticket_subject,
        "actor": notification.actor_name or w["notifications.someone"],
    }
    return w[f"notifications.kind.{notification.kind.value}"].format(**values)


def digest_mail(
    deps: NotificationDeps,
    workspace: Workspace,
    user: User | None,
    to: str,
    name: str,
    notifications: list[Notification],
) -> OutboundMail:
    """The digest mail to one agent: one line per notification, newest first, each linking
    to its ticket in the web client; the address of the preferences at the end."""
    locale, formality = digest_language(workspace, user)
    w = words(locale, formality)
    base = deps.policy.app_base_url.rstrip("/")
    count = len(notifications)
    subject = w.plural("notifications.digest.subject", count).format(
        count=count, workspace=workspace.name
    )
    greeting = w["notifications.digest.greeting"].format(name=name)
    intro = w["notifications.digest.intro"]
    footer = w["notifications.digest.footer"]
    settings_url = f"{base}/settings/notifications"
    shown = sorted(notifications, key=lambda n: n.id, reverse=True)
    text_lines, html_items = [], []
    for notification in shown:
        url = f"{base}/tickets/{notification.ticket_id}"
        line = _line(w, notification)
        excerpt = f"\n  “{notification.excerpt}”" if notification.excerpt else ""
        text_lines.append(f"- {line}{excerpt}\n  {url}")
        quoted = f"<br><i>“{escape(notification.excerpt)}”</i>" if notification.excerpt else ""
        html_items.append(
            f'<li><a href="{escape(url, quote=True)}">{escape(line)}</a>{quoted}</li>'
        )
    text = (
        f"{greeting}\n\n{intro}\n\n"
        + "\n".join(text_lines)
        + f"\n\n{footer.format(url=settings_url)}\n"
    )
    html = (
        f"<p>{escape(greeting)}</p><p>{escape(intro)}</p><ul>{''.join(html_items)}</ul>"
        f"<p>{escape(footer).format(url=escape(settings_url))}</p>"
    )
    return OutboundMail(
        mail_id=new_id(),
        workspace_id=workspace.id,
        purpose="notification_digest",
        from_name="Helptal",
        to=[to],
        subject=subject,
        text=text,
        html=html,
        tags=["notification-digest"],
    )


def _wanted(waiting: WaitingMail, unread: set[str], read_through: str | None) -> bool:
    """Mailed only while unread in the app (a notification the app does not show: always)."""
    if not waiting.in_app:
        return True
    n = waiting.notification
    return n.id in unread and (read_through is None or n.id > read_through)


def mail_one(deps: NotificationDeps, lease: DigestLease, now: datetime) -> int:
    """One agent's digest, at most one mail: the notifications mailed (0: none wanted)."""
    ws, user_id = lease.workspace_id, lease.user_id
    if lease.outgoing is not None:  # recorded by a run cut short: queue it now
        deps.outbox.send_recorded(lease.outgoing)
        deps.store.digest_queued(ws, user_id, lease.outgoing.mail_id)
        return 0
    limit = deps.policy.digest_size
    waiting, unread, state = deps.store.waiting_mail(ws, user_id, limit)
    member = deps.accounts.get_member(ws, user_id)
    workspace = deps.accounts.get_workspace(ws)
    preferences = deps.store.preferences(ws, [user_id])[user_id]
    chosen = [
        w.notification
        for w in waiting
        if member is not None
        and workspace is not None
        and preferences.of(w.notification.kind).email
        and _wanted(w, unread, state.read_through)
    ]
    mail = None
    if chosen and member is not None and workspace is not None:
        user = deps.accounts.get_user(user_id)
        mail = digest_mail(deps, workspace, user, member.email, member.name, chosen)
    taken = [w.notification.id for w in waiting]  # the others are not mailed, ever
    deps.store.record_digest(lease, taken, len(waiting) < limit, mail, now)
    if mail is not None:
        deps.outbox.send_recorded(mail)
        deps.store.digest_queued(ws, user_id, mail.mail_id)
    return len(chosen) if mail is not None else 0


def run_digests(
    deps: NotificationDeps, now: datetime, keep_going: Callable[[], bool] = lambda: True
) -> DigestRun:
    """The scheduled job: mails every agent whose digest is due at `now` (at most
    `digests_per_run`; the rest next run), one mail each.  One Query per shard of the due
    list, then per agent: a lease, a Query and a BatchGetItem, three GetItems, one
    transaction, the queue."""
    run = DigestRun()
    for ws, user_id in deps.store.due_digests(now, deps.policy.digests_per_run):
        if not keep_going():
            break
        run.due += 1
        lease = deps.store.lease_digest(ws, user_id, now, LEASE_SECONDS)
        if lease is None:
            run.skipped += 1
            continue
        try:
            mailed = mail_one(deps, lease, now)
        except DigestChanged:
            deps.store.release_digest(lease)
            run.skipped += 1
            continue
        except Exception:
            # This agent's digest waits for the next run; the others go out now.
            logger.exception("notification digest failed", extra={"workspace_id": ws})
            deps.store.release_digest(lease)
            run.skipped += 1
            continue
        if mailed:
            run.mailed += 1
            run.notifications += mailed
            logger.info("notification digest queued", extra={"workspace_id": ws})
    return run
