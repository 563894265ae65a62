"""Subscribing to sub-processor change notices: double opt-in by a link whose page confirms,
the same answer whatever the address, limits per visitor and per address, and unsubscribing
from any mail."""

from __future__ import annotations

import re

import pytest

from chalicelib.errors import TooManyRequests
from chalicelib.privacy.notice_ports import SubscriberStatus, subscriber_key
from chalicelib.privacy.subscriptions import (
    MAILS_PER_ADDRESS,
    REQUESTS_PER_VISITOR,
    LinkNotValid,
    confirm,
    confirmation_asked,
    subscribe,
    unsubscribe,
    unsubscribe_asked,
)
from tests.notice_fakes import NoticeWorld

VISITOR = "198.51.100.7"


def _link(mail_text: str, kind: str) -> str:
    match = re.search(rf"/legal/subprocessors/subscriptions/{kind}/([A-Za-z0-9_.-]+)", mail_text)
    assert match, mail_text
    return match.group(1)


def _confirmation(world: NoticeWorld, address: str) -> str:
    [mail] = world.outbox.queued_to(address)
    world.outbox.deliver()
    return _link(mail.text, "confirm")


def test_a_subscription_starts_only_when_its_confirmation_link_is_confirmed():
    world = NoticeWorld()
    subscribe(world.subscription_deps(), " DPO@Example.com ", "fr", VISITOR)
    [mail] = world.outbox.queued_to("dpo@example.com")
    assert mail.subject == "Confirmez votre abonnement aux avis sur les sous-traitants de Helptal"
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    key = subscriber_key("dpo@example.com")
    assert world.subscribers.get(key).status is SubscriberStatus.PENDING
    token = _confirmation(world, "dpo@example.com")
    assert confirmation_asked(world.subscription_deps(), token).lang == "fr"
    assert world.subscribers.get(key).status is SubscriberStatus.PENDING  # the page changes nothing
    confirmed = confirm(world.subscription_deps(), token)
    assert confirmed.status is SubscriberStatus.CONFIRMED and confirmed.lang == "fr"
    assert confirm(world.subscription_deps(), token) == confirmed  # again: no error


def test_asking_again_for_a_confirmed_address_sends_nothing_and_answers_the_same():
    world = NoticeWorld()
    world.subscribe_confirmed("dpo@example.com")
    assert subscribe(world.subscription_deps(), "dpo@example.com", "en", VISITOR) is None
    assert world.outbox.queue == []


def test_a_newer_request_replaces_the_earlier_confirmation_link():
    world = NoticeWorld()
    subscribe(world.subscription_deps(), "dpo@example.com", "en", VISITOR)
    first = _confirmation(world, "dpo@example.com")
    subscribe(world.subscription_deps(), "dpo@example.com", "fr", VISITOR)
    second = _confirmation(world, "dpo@example.com")
    with pytest.raises(LinkNotValid):
        confirm(world.subscription_deps(), first)
    assert confirm(world.subscription_deps(), second).lang == "fr"


def test_a_confirmation_link_expires_after_seven_days():
    world = NoticeWorld()
    subscribe(world.subscription_deps(), "dpo@example.com", "en", VISITOR)
    token = _confirmation(world, "dpo@example.com")
    world.clock.advance(days=7, seconds=1)
    with pytest.raises(LinkNotValid):
        confirmation_asked(world.subscription_deps(), token)
    with pytest.raises(LinkNotValid):
        confirm(world.subscription_deps(), token)


@pytest.mark.parametrize(
    "token",
    ["", "x", "a.b", "a.b.c", "%00", "é" * 50, "A" * 5000],
    ids=["empty", "one char", "two parts", "three parts", "nul", "accents", "huge"],
)
def test_a_forged_or_malformed_link_is_not_valid(token):
    world = NoticeWorld()
    for check in (confirmation_asked, confirm, unsubscribe_asked, unsubscribe):
        with pytest.raises(LinkNotValid):
            check(world.subscription_deps(), token)


def test_a_link_of_one_kind_never_works_as_the_other():
    world = NoticeWorld()
    subscribe(world.subscription_deps(), "dpo@example.com", "en", VISITOR)
    [mail] = world.outbox.queued_to("dpo@example.com")
    confirm_token = _link(mail.text, "confirm")
    unsubscribe_token = mail.headers["List-Unsubscribe"].rsplit("/", 1)[1].rstrip(">")
    with pytest.raises(LinkNotValid):
        unsubscribe(world.subscription_deps(), confirm_token)
    with pytest.raises(LinkNotValid):
        confirm(world.subscription_deps(), unsubscribe_token)
    altered = confirm_token[:-2] + ("AA" if not confirm_token.endswith("AA") else "BB")
    with pytest.raises(LinkNotValid):
        confirm(world.subscription_deps(), altered)


def test_unsubscribing_forgets_the_address_and_works_twice():
    world = NoticeWorld()
    subscriber = world.subscribe_confirmed("dpo@example.com")
    token = world.links.unsubscribe_token(subscriber.key)
    unsubscribe(world.subscription_deps(), token)
    unsubscribe(world.subscription_deps(), token)
    assert world.subscribers.get(subscriber.key) is None


def test_a_visitor_is_refused_after_its_hourly_requests():
    world = NoticeWorld()
    for n in range(REQUESTS_PER_VISITOR):
        subscribe(world.subscription_deps(), f"p{n}@example.com", "en", VISITOR)
    with pytest.raises(TooManyRequests):
        subscribe(world.subscription_deps(), "one-more@example.com", "en", VISITOR)
    subscribe(world.subscription_deps(), "one-more@example.com", "en", "203.0.113.9")
    world.clock.advance(hours=1)
    subscribe(world.subscription_deps(), "later@example.com", "en", VISITOR)


def test_an_address_gets_a_few_confirmation_mails_a_day_then_silently_none():
    world = NoticeWorld()
    for n in range(MAILS_PER_ADDRESS + 2):
        subscribe(world.subscription_deps(), "target@example.com", "en", f"203.0.113.{n}")
    assert len(world.outbox.queued_to("target@example.com")) == MAILS_PER_ADDRESS
    world.clock.advance(days=1)
    subscribe(world.subscription_deps(), "target@example.com", "en", VISITOR)
    assert len(world.outbox.queued_to("target@example.com")) == MAILS_PER_ADDRESS + 1


def test_a_language_other_than_english_or_french_subscribes_in_english():
    world = NoticeWorld()
    subscribe(world.subscription_deps(), "dpo@example.com", "de", VISITOR)
    [mail] = world.outbox.queued_to("dpo@example.com")
    assert mail.subject.startswith("Confirm your subscription")
