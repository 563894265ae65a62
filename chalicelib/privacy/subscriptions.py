"""Subscribing to the sub-processor change notices by e-mail: double opt-in, and unsubscribe
from any notice.

Anyone may ask for any address; the answer is always the same, so nobody learns from it
whether an address is subscribed.  Only the address's owner can confirm (the link in the mail
leads to a page whose button confirms: a link scanner that opens it confirms nothing).  A
visitor may ask REQUESTS_PER_VISITOR times an hour (then 429); an address gets at most
MAILS_PER_ADDRESS confirmation mails a day and all addresses together MAILS_PER_HOUR an hour
(past those, nothing is sent and the answer is the same)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from chalicelib.clock import Clock, epoch
from chalicelib.errors import NotFound, TooManyRequests
from chalicelib.observability import logger
from chalicelib.privacy.notice_links import CONFIRM_DAYS, ConfirmGrant, NoticeLinks, language
from chalicelib.privacy.notice_mails import confirmation_mail
from chalicelib.privacy.notice_ports import (
    NoticeSubscribers,
    OnceMail,
    RequestLimits,
    Subscriber,
    SubscriberStatus,
    normalised_address,
)

HOUR = 3600
DAY = 86400
REQUESTS_PER_VISITOR = 10  # an hour
MAILS_PER_ADDRESS = 3  # a day
MAILS_PER_HOUR = 1000  # every address together: the sending domain's reputation


@dataclass(frozen=True)
class SubscriptionDeps:
    subscribers: NoticeSubscribers
    limits: RequestLimits
    mail: OnceMail
    links: NoticeLinks
    clock: Clock


class LinkNotValid(NotFound):
    code = "link_not_valid"


def _too_many() -> TooManyRequests:
    return TooManyRequests(
        "Too many subscription requests; try again in an hour.",
        retry_after_seconds=HOUR,
        code="too_many_requests",
    )


def subscribe(deps: SubscriptionDeps, email: str, lang: str, visitor: str) -> None:
    """Asks `email` to confirm a subscription in `lang` (a pending subscription, replacing a
    pending one, and its confirmation mail), unless it is confirmed already or a limit is
    reached: the caller cannot tell which.  Raises TooManyRequests past the visitor's limit.
    Writes: the limits' counters, the pending subscription; queues one mail."""
    now = deps.clock.now()
    at = epoch(now)
    if not deps.limits.allow(f"visitor:{visitor}", at, HOUR, REQUESTS_PER_VISITOR):
        raise _too_many()
    address = normalised_address(email)
    chosen = language(lang)
    if not deps.limits.allow(f"address:{address}", at, DAY, MAILS_PER_ADDRESS):
        return
    if not deps.limits.allow("every address", at, HOUR, MAILS_PER_HOUR):
        logger.warning("sub-processor subscription mails: the hourly limit is reached")
        return
    subscriber = Subscriber(
        email=address,
        lang=chosen,
        status=SubscriberStatus.PENDING,
        nonce=secrets.token_urlsafe(12),
        created_at=now,
    )
    if not deps.subscribers.put_pending(subscriber, at + CONFIRM_DAYS * DAY):
        return  # confirmed already: every notice it gets says how to unsubscribe
    grant = ConfirmGrant(subscriber.key, subscriber.nonce, chosen, at)
    deps.mail.send_once(
        confirmation_mail(
            to=address,
            lang=chosen,
            nonce=subscriber.nonce,
            confirm_token=deps.links.confirm_token(grant),
            unsubscribe_token=deps.links.unsubscribe_token(subscriber.key),
            links=deps.links,
        )
    )


def confirmation_asked(deps: SubscriptionDeps, token: str) -> ConfirmGrant:
    """What a confirmation link asks (its page shows the button); LinkNotValid for a forged,
    altered or expired link.  Reads and writes nothing."""
    grant = deps.links.read_confirm(token, epoch(deps.clock.now()))
    if grant is None:
        raise LinkNotValid("This link is not valid or has expired.")
    return grant


def confirm(deps: SubscriptionDeps, token: str) -> Subscriber:
    """Confirms the subscription the link names: from now on it gets the notices.  The same
    again is no error; LinkNotValid when the link is forged, expired, or was replaced by a
    newer request or an unsubscribe.  One conditional write (and a read when refused)."""
    grant = confirmation_asked(deps, token)
    confirmed = deps.subscribers.confirm(grant.key, grant.nonce, grant.lang, deps.clock.now())
    if confirmed is None:
        raise LinkNotValid("This link is not valid or has expired.")
    return confirmed


def unsubscribe_asked(deps: SubscriptionDeps, token: str) -> str:
    """The subscription an unsubscribe link names (its page shows the button); LinkNotValid
    for a forged or altered link.  Reads and writes nothing."""
    key = deps.links.read_unsubscribe(token)
    if key is None:
        raise LinkNotValid("This link is not valid.")
    return key


def unsubscribe(deps: SubscriptionDeps, token: str) -> None:
    """Forgets the subscription the link names, pending or confirmed (gone already: nothing
    to do): no notice is sent to it any more.  One DeleteItem."""
    deps.subscribers.remove(unsubscribe_asked(deps, token))
