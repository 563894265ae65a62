"""The mails of the sub-processor change notices, English or French: the notice of a planned
change (what changes and when, the provider's name, location and purpose, whether it
processes Workspace content, the public list; for workspace owners and admins the objection
screen, for subscribers the unsubscribe link with RFC 8058 one-click headers) and the mail
that confirms a subscription.

These mails belong to no workspace: they are logged under the reserved id PLATFORM_MAILS (not
a ULID, so never a workspace's), which the mail-out worker only uses to key its log."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from chalicelib.mail.outbound import OutboundMail
from chalicelib.privacy.model import ChangeKind, PlannedChange
from chalicelib.privacy.notice_links import CONFIRM_DAYS, NoticeLinks
from chalicelib.privacy.notice_words import words

PLATFORM_MAILS = "_platform"
NOTICE_PURPOSE = "subprocessor_notice"
SUBSCRIPTION_PURPOSE = "subprocessor_subscription"
FROM_NAME = "Helptal"


def format_day(moment: datetime, lang: str) -> str:
    """The UTC day of `moment`: "June 30, 2026" / "30 juin 2026"."""
    from babel.dates import format_date

    return str(format_date(moment.astimezone(UTC).date(), "long", locale=lang))


def notice_mail_id(change_id: str, email: str) -> str:
    """The same for a change and an address however often the job runs."""
    address = hashlib.sha256(email.encode()).hexdigest()[:32]
    return f"subprocessor-notice:{change_id}:{address}"


@dataclass(frozen=True)
class _Paragraph:
    text: str
    url: str = ""
    label: str = ""


def _bodies(paragraphs: list[_Paragraph]) -> tuple[str, str]:
    """(text, html) of the paragraphs; every value is escaped in HTML."""
    text = "\n\n".join(f"{p.text} {p.url}" if p.url else p.text for p in paragraphs) + "\n"
    html = "".join(
        f'<p>{escape(p.text)} <a href="{escape(p.url, quote=True)}">{escape(p.label)}</a></p>'
        if p.url
        else f"<p>{escape(p.text)}</p>"
        for p in paragraphs
    )
    return text, html


def _unsubscribe_headers(url: str) -> dict[str, str]:
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _names(ids: tuple[str, ...], providers: Mapping[str, str]) -> str:
    return ", ".join(providers.get(i, i) for i in ids)


def notice_mail(
    change: PlannedChange,
    *,
    to: str,
    lang: str,
    name: str,
    now: datetime,
    links: NoticeLinks,
    providers: Mapping[str, str],
    member: bool,
    unsubscribe_token: str | None,
) -> OutboundMail:
    """The notice of `change` to one reader.  `providers`: names by id (of those it replaces
    or removes); `member`: an owner or admin (the objection screen); `unsubscribe_token`: a
    subscriber's (the unsubscribe link and headers)."""
    w = words(lang)
    date = format_day(change.effective_at, lang)
    days = max(0, (change.effective_at - now).days)
    paragraphs = [
        _Paragraph(w["greeting"].format(name=name) if name else w["greeting.anonymous"]),
        _Paragraph(w["notice.intro"].format(date=date, days=days)),
        _Paragraph(getattr(change.summary, lang)),
    ]
    newcomer = change.subprocessor
    if newcomer is not None and change.kind is not ChangeKind.REMOVE:
        location, purpose = getattr(newcomer.location, lang), getattr(newcomer.purpose, lang)
        provider = f"{newcomer.name} ({location}) — {purpose}"
        paragraphs.append(_Paragraph(w["notice.added"].format(provider=provider)))
        if change.replaces:
            names = _names(change.replaces, providers)
            paragraphs.append(_Paragraph(w["notice.replaces"].format(names=names)))
        content = "notice.content" if newcomer.processes_workspace_content else "notice.no_content"
        paragraphs.append(_Paragraph(w[content].format(name=newcomer.name)))
    elif change.replaces:
        names = _names(change.replaces, providers)
        paragraphs.append(_Paragraph(w["notice.removed"].format(names=names)))
    paragraphs.append(_Paragraph(w["notice.list"], links.list_page(lang), w["link.list"]))
    headers: dict[str, str] = {}
    if member:
        paragraphs.append(
            _Paragraph(
                w["notice.objection"].format(date=date),
                links.objection_screen(),
                w["link.objection"],
            )
        )
        paragraphs.append(_Paragraph(w["notice.why_member"]))
    if unsubscribe_token is not None:
        url = links.unsubscribe_url(unsubscribe_token, lang)
        paragraphs.append(_Paragraph(w["notice.why_subscriber"], url, w["link.unsubscribe"]))
        headers = _unsubscribe_headers(url)
    paragraphs.append(_Paragraph(w["signature"]))
    text, html = _bodies(paragraphs)
    return OutboundMail(
        mail_id=notice_mail_id(change.id, to),
        workspace_id=PLATFORM_MAILS,
        purpose=NOTICE_PURPOSE,
        from_name=FROM_NAME,
        to=[to],
        subject=w["notice.subject"].format(date=date),
        text=text,
        html=html,
        headers=headers,
        tags=["subprocessor-notice"],
    )


def confirmation_mail(
    *,
    to: str,
    lang: str,
    nonce: str,
    confirm_token: str,
    unsubscribe_token: str,
    links: NoticeLinks,
) -> OutboundMail:
    """The mail that asks to confirm a subscription (one per request: its nonce)."""
    w = words(lang)
    unsubscribe = links.unsubscribe_url(unsubscribe_token, lang)
    text, html = _bodies(
        [
            _Paragraph(w["greeting.anonymous"]),
            _Paragraph(w["confirm.intro"]),
            _Paragraph(
                w["confirm.cta"].format(days=CONFIRM_DAYS),
                links.confirm_url(confirm_token),
                w["link.confirm"],
            ),
            _Paragraph(w["confirm.ignore"]),
            _Paragraph(w["notice.list"], links.list_page(lang), w["link.list"]),
            _Paragraph(w["signature"]),
        ]
    )
    return OutboundMail(
        mail_id=f"subprocessor-subscription:{nonce}",
        workspace_id=PLATFORM_MAILS,
        purpose=SUBSCRIPTION_PURPOSE,
        from_name=FROM_NAME,
        to=[to],
        subject=w["confirm.subject"],
        text=text,
        html=html,
        headers=_unsubscribe_headers(unsubscribe),
        tags=["subprocessor-subscription"],
    )
