"""The notice of a planned sub-processor change goes to every workspace owner and admin and
every confirmed subscriber exactly once per change and address, during its notice period,
however the job runs: again, later, overlapping, stopped early or cut between its steps."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from chalicelib.privacy.notice_ports import subscriber_key
from chalicelib.privacy.notices import LEASE, send_due_notices
from tests.notice_fakes import Crash, NoticeWorld


@pytest.fixture()
def world() -> NoticeWorld:
    world = NoticeWorld()
    world.add_change(days_out=40)
    world.add_admin("ann@acme.test", name="Ann")
    world.add_admin("bob@acme.test", lang="fr", name="Bob")
    world.subscribe_confirmed("dpo@example.com")
    world.subscribe_confirmed("dpd@exemple.fr", lang="fr")
    return world


def _addresses(world: NoticeWorld) -> list[str]:
    return sorted(address for mail in world.outbox.deliver() for address in mail.to)


EVERYONE = ["ann@acme.test", "bob@acme.test", "dpd@exemple.fr", "dpo@example.com"]


def test_each_admin_and_subscriber_gets_one_notice_of_a_change_in_its_notice_period(world):
    counts = send_due_notices(world.deps(), world.now)
    assert counts["changes"] == 1 and counts["queued"] == 4 and counts["unfinished"] == 0
    assert _addresses(world) == EVERYONE


def test_running_again_at_the_same_time_and_later_mails_nobody_twice(world):
    first = send_due_notices(world.deps(), world.now)
    again = send_due_notices(world.deps(), world.now)
    later = send_due_notices(world.deps(), world.now + timedelta(days=3))
    assert first["queued"] == 4
    assert again["queued"] == 0 and later["queued"] == 0
    assert _addresses(world) == EVERYONE


def test_overlapping_runs_mail_each_address_once(world):
    for n in range(30):
        world.add_admin(f"admin{n}@many.test")
        world.subscribe_confirmed(f"reader{n}@many.test")
    barrier = threading.Barrier(4)
    results: list[dict[str, int]] = []

    def run() -> None:
        barrier.wait()
        results.append(send_due_notices(world.deps(), world.now))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    delivered = _addresses(world)
    assert len(delivered) == 64 and len(set(delivered)) == 64
    assert sum(r["queued"] for r in results) == 64


def test_a_run_cut_between_the_claim_and_the_queue_is_taken_over_with_the_same_mail_id(world):
    world.outbox.crash_before_record = 1
    with pytest.raises(Crash):
        send_due_notices(world.deps(), world.now)
    # A retry within the lease leaves the cut claim alone (its run might still be going).
    retried = send_due_notices(world.deps(), world.now)
    assert retried["held"] == 1 and retried["queued"] == 3
    world.clock.advance(seconds=LEASE.total_seconds() + 1)
    later = send_due_notices(world.deps(), world.now + timedelta(hours=1))
    assert later["queued"] == 1
    delivered = world.outbox.deliver()
    assert sorted(a for m in delivered for a in m.to) == EVERYONE
    assert len({m.mail_id for m in delivered}) == 4


def test_a_mail_recorded_but_not_queued_is_queued_again_under_its_id(world):
    world.outbox.crash_before_queue = 1
    with pytest.raises(Crash):
        send_due_notices(world.deps(), world.now)
    [cut] = list(world.outbox.log)  # recorded, never queued
    assert world.outbox.queue == []
    world.clock.advance(seconds=LEASE.total_seconds() + 1)
    send_due_notices(world.deps(), world.now + timedelta(hours=1))
    delivered = world.outbox.deliver()
    assert [m.mail_id for m in delivered].count(cut) == 1
    assert sorted(a for m in delivered for a in m.to) == EVERYONE


def test_unconfirmed_and_unsubscribed_subscribers_get_none(world):
    from chalicelib.privacy.subscriptions import subscribe

    subscribe(world.subscription_deps(), "pending@example.com", "en", "198.51.100.7")
    gone = world.subscribe_confirmed("gone@example.com")
    world.subscribers.remove(gone.key)
    world.outbox.deliver()  # the confirmation mail
    send_due_notices(world.deps(), world.now)
    assert _addresses(world) == EVERYONE


@pytest.mark.parametrize(
    ("announced_days_ago", "days_out"),
    [(-2, 40), (45, -1), (31, 0)],
    ids=["not announced yet", "in force since yesterday", "in force from now"],
)
def test_a_change_outside_its_notice_period_gets_no_notice(announced_days_ago, days_out):
    world = NoticeWorld()
    world.add_change(days_out=days_out, announced_days_ago=announced_days_ago)
    world.add_admin("ann@acme.test")
    world.subscribe_confirmed("dpo@example.com")
    counts = send_due_notices(world.deps(), world.now)
    assert counts["changes"] == 0
    assert world.outbox.deliver() == []


def test_an_address_that_is_admin_and_subscriber_gets_one_mail_with_both_links(world):
    world.subscribe_confirmed("ann@acme.test")
    world.add_admin("ann@acme.test", name="Ann")  # an owner of a second workspace too
    send_due_notices(world.deps(), world.now)
    delivered = world.outbox.deliver()
    [ann] = [m for m in delivered if m.to == ["ann@acme.test"]]
    assert len(delivered) == 4
    assert "https://app.helptal.test/#/settings/privacy" in ann.text
    assert "/legal/subprocessors/subscriptions/unsubscribe/" in ann.text
    assert ann.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_admins_get_the_objection_screen_and_subscribers_the_unsubscribe_link(world):
    send_due_notices(world.deps(), world.now)
    by_address = {m.to[0]: m for m in world.outbox.deliver()}
    bob, dpo, dpd = (
        by_address["bob@acme.test"],
        by_address["dpo@example.com"],
        by_address["dpd@exemple.fr"],
    )
    assert "Paramètres > Confidentialité" in bob.text and "Bonjour Bob," in bob.text
    assert "https://app.helptal.test/#/settings/privacy" in bob.text
    assert "List-Unsubscribe" not in bob.headers and "unsubscribe" not in bob.text
    assert "settings/privacy" not in dpo.text
    assert dpo.headers["List-Unsubscribe"].startswith(
        "<https://api.helptal.test/legal/subprocessors/subscriptions/unsubscribe/"
    )
    assert dpo.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Amazon Web Services (Singapore)" in dpo.text
    assert "It replaces: Vultr, DigitalOcean, Neon, Upstash." in dpo.text
    assert "will process Workspace content" in dpo.text
    assert "https://api.helptal.test/legal/subprocessors" in dpo.text
    assert "40 days from now" in dpo.text and "July 11, 2026" in dpo.subject
    assert "Amazon Web Services (Singapour)" in dpd.text and "11 juillet 2026" in dpd.subject
    assert "traitera le contenu des espaces de travail" in dpd.text
    assert dpd.headers["List-Unsubscribe"].endswith("?lang=fr>")


def test_the_unsubscribe_link_of_a_notice_unsubscribes_its_reader(world):
    from chalicelib.privacy.subscriptions import unsubscribe

    send_due_notices(world.deps(), world.now)
    [dpo] = world.outbox.queued_to("dpo@example.com")
    token = dpo.headers["List-Unsubscribe"].rsplit("/", 1)[1].rstrip(">")
    unsubscribe(world.subscription_deps(), token)
    assert world.subscribers.get(subscriber_key("dpo@example.com")) is None


def test_a_run_that_stops_early_is_continued_by_the_next_from_where_it_stopped(world):
    for n in range(250):
        world.add_admin(f"admin{n:03d}@many.test")
    budget = iter(range(120))

    def keep_going() -> bool:
        return next(budget, None) is not None

    first = send_due_notices(world.deps(), world.now, keep_going)
    assert first["unfinished"] == 1 and 0 < first["queued"] < 254
    reads_before = world.admins.reads
    second = send_due_notices(world.deps(), world.now + timedelta(hours=1))
    assert first["queued"] + second["queued"] == 254
    # It read on from its cursor (a little before it), not the whole list again.
    assert world.admins.reads - reads_before <= 3
    assert len(_addresses(world)) == 254


def test_people_who_join_during_the_notice_period_get_the_notice_on_the_next_run(world):
    send_due_notices(world.deps(), world.now)
    world.outbox.deliver()
    world.clock.advance(days=2)
    world.add_admin("new-admin@acme.test")
    world.subscribe_confirmed("late@example.com")
    counts = send_due_notices(world.deps(), world.now)
    assert counts["queued"] == 2
    assert _addresses(world) == ["late@example.com", "new-admin@acme.test"]
