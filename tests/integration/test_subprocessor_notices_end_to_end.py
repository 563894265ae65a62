"""Sub-processor change notices on the emulator, through the API, the subscription pages, the
real schedule handler and the mail-out queue and worker: a change planned 40 days out is
mailed once to every owner and admin of every workspace and every confirmed subscriber, in
their language, however often the job fires; agents, unconfirmed and unsubscribed
subscribers get none; an address that is both admin and subscriber gets one mail; runs that
overlap, or follow one cut between its claim and the queue, mail each address once."""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from app import app
from chalicelib import bootstrap
from chalicelib.mail.outbound import MailStatus
from chalicelib.privacy.model import ChangeKind, PlannedChange, Words
from chalicelib.privacy.notice_mails import PLATFORM_MAILS, notice_mail, notice_mail_id
from chalicelib.privacy.notice_ports import Subscriber, SubscriberStatus
from chalicelib.store.subprocessor_notices_repo import DynamoNoticeRecords
from devstack.pump import EventPump
from tests.integration.conftest import (
    Api,
    accept_invitation,
    drain_mail_queue,
    invite,
    take_queued_mail,
)
from tests.notice_fakes import AWS

FORM = {"Content-Type": "application/x-www-form-urlencoded"}

AWS_SUMMARY = Words(
    "Hosting moves to AWS in Singapore (ap-southeast-1), replacing Vultr, DigitalOcean, Neon "
    "and Upstash.",
    "L'hébergement passe chez AWS à Singapour (ap-southeast-1), à la place de Vultr, "
    "DigitalOcean, Neon et Upstash.",
)


def subscribe(api: Api, email: str, lang: str = "en") -> Any:
    return api.client.http.post(
        "/legal/subprocessors/subscribe",
        headers=FORM,
        body=urlencode({"email": email, "lang": lang}),
    )


def confirm_by_mail(api: Api, email: str) -> dict[str, Any]:
    """Opens the confirmation link of the mail sent to `email` and presses its button."""
    mail = take_queued_mail(email, "subprocessor_subscription")
    match = re.search(r"(/legal/subprocessors/subscriptions/confirm/[\w.-]+)", mail["text"])
    assert match, mail["text"]
    page = api.client.http.get(match.group(1))
    assert page.status_code == 200 and b'<form method="post"' in page.body
    done = api.client.http.post(match.group(1), headers=FORM, body="")
    assert done.status_code == 200, done.body
    return mail


def member_id(api: Api, token: str, email: str) -> str:
    status, body, _ = api.request("GET", "/v1/members", token=token)
    assert status == 200, body
    return str(next(m["id"] for m in body["members"] if m["email"] == email))


def test_a_change_40_days_out_is_mailed_once_to_each_admin_and_subscriber(
    api, fake_mailgun, clean_aws
):
    # Two workspaces: owners, an admin, an agent made admin, an admin made agent, and Ann
    # an owner of one and an admin of the other.
    ann = api.sign_up(workspace="Acme Support", email="ann@acme.test", name="Ann Owner")
    dora = api.sign_up(
        workspace="Beta Desk", email="dora@beta.test", name="Dora Owner", locale="fr"
    )
    assert accept_invitation(api, invite(api, ann["token"], "bob@acme.test", "admin"))[0] == 200
    assert accept_invitation(api, invite(api, ann["token"], "carl@acme.test", "admin"))[0] == 200
    assert accept_invitation(api, invite(api, ann["token"], "eve@acme.test", "agent"))[0] == 200
    assert accept_invitation(api, invite(api, ann["token"], "fay@acme.test", "agent"))[0] == 200
    assert accept_invitation(api, invite(api, dora["token"], "ann@acme.test", "admin"))[0] == 200
    for email, role in (("carl@acme.test", "agent"), ("eve@acme.test", "admin")):
        status, body, _ = api.request(
            "PATCH",
            f"/v1/members/{member_id(api, ann['token'], email)}",
            {"role": role},
            token=ann["token"],
        )
        assert status == 200, body

    # Subscribers through the pages: two confirm, one never does, one unsubscribes by the
    # one-click header of its confirmation mail after confirming, and Ann subscribes too.
    for email, lang in (
        ("dpo@example.com", "fr"),
        ("pending@example.com", "en"),
        ("gone@example.com", "en"),
        ("ann@acme.test", "en"),
        ("privacy@example.org", "en"),
    ):
        answer = subscribe(api, email, lang)
        assert answer.status_code == 200, answer.body
    for email in ("dpo@example.com", "ann@acme.test", "privacy@example.org"):
        confirm_by_mail(api, email)
    gone = confirm_by_mail(api, "gone@example.com")
    unsubscribe_url = gone["headers"]["List-Unsubscribe"].strip("<>")
    one_click = api.client.http.post(
        unsubscribe_url.removeprefix("https://api.helptal.test"),
        headers=FORM,
        body="List-Unsubscribe=One-Click",
    )
    assert one_click.status_code == 200, one_click.body
    drain_mail_queue()  # invitations, confirmations

    now = datetime.now(UTC)
    change = PlannedChange(
        id="01JNOTICEDCHANGE0000000AWS",
        kind=ChangeKind.REPLACE,
        announced_at=now - timedelta(minutes=1),
        effective_at=now + timedelta(days=40),
        summary=AWS_SUMMARY,
        subprocessor=AWS,
        replaces=("vultr", "digitalocean", "neon", "upstash"),
    )
    bootstrap.subprocessor_changes().record_change(change)

    pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
    at = (now + timedelta(minutes=5)).timestamp()
    first = pump.fire("subprocessor-notices", at)
    again = pump.fire("subprocessor-notices", at)
    later = pump.fire("subprocessor-notices", (now + timedelta(days=3)).timestamp())
    after = pump.fire("subprocessor-notices", (now + timedelta(days=41)).timestamp())
    assert first["queued"] == 6 and again["queued"] == 0 and later["queued"] == 0
    assert after["changes"] == 0

    assert pump.drain(["mail_out_worker"]) == 6
    sent = [m for m in fake_mailgun.messages if m.one("o:tag") == "subprocessor-notice"]
    to = sorted(address for m in sent for address in m.all("to"))
    assert to == [
        "ann@acme.test",
        "bob@acme.test",
        "dora@beta.test",
        "dpo@example.com",
        "eve@acme.test",
        "privacy@example.org",
    ]
    by_address = {m.one("to"): m for m in sent}
    dpo, dora_mail, ann_mail = (
        by_address["dpo@example.com"],
        by_address["dora@beta.test"],
        by_address["ann@acme.test"],
    )
    assert "sous-traitants" in str(dpo.one("subject")) and "Singapour" in str(dpo.one("text"))
    assert dpo.one("h:List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert "Paramètres > Confidentialité" in str(dora_mail.one("text"))
    assert dora_mail.one("h:List-Unsubscribe") is None
    assert "https://app.helptal.test/#/settings/privacy" in str(ann_mail.one("text"))
    assert str(ann_mail.one("h:List-Unsubscribe")).startswith("<https://api.helptal.test/")
    # Logged under no workspace: the worker needs none to exist.
    status = bootstrap.mail_log().status(PLATFORM_MAILS, str(dpo.one("v:helptal-mail-id")))
    assert status is MailStatus.SENT
    assert all(m.one("v:helptal-workspace-id") is None for m in sent)


def test_overlapping_runs_and_runs_cut_short_still_mail_each_address_once(api, clean_aws):
    api.sign_up(workspace="Acme Support", email="ann@acme.test", confirm=False)
    now = datetime.now(UTC)
    subscribers = bootstrap.notice_subscribers()
    readers = ["ann@acme.test"]
    for n in range(24):
        email = f"reader{n:02d}@example.com"
        pending = Subscriber(email, "en", SubscriberStatus.PENDING, f"nonce{n}", now)
        assert subscribers.put_pending(pending, int(now.timestamp()) + 3600)
        assert subscribers.confirm(pending.key, pending.nonce, "en", now) is not None
        readers.append(email)
    drain_mail_queue()
    change = PlannedChange(
        id="01JOVERLAPPINGCHANGE000AWS",
        kind=ChangeKind.ADD,
        announced_at=now - timedelta(minutes=1),
        effective_at=now + timedelta(days=40),
        summary=AWS_SUMMARY,
        subprocessor=AWS,
    )
    bootstrap.subprocessor_changes().record_change(change)
    # A run claimed reader00 twenty minutes ago and stopped before queueing (its lease is
    # over); another recorded reader01's mail and stopped before putting it on the queue.
    DynamoNoticeRecords().claim(
        change.id,
        "reader00@example.com",
        notice_mail_id(change.id, "reader00@example.com"),
        now - timedelta(minutes=20),
        900,
        int((now + timedelta(days=80)).timestamp()),
    )
    cut = notice_mail(
        change,
        to="reader01@example.com",
        lang="en",
        name="",
        now=now,
        links=bootstrap.notice_links(),
        providers={},
        member=False,
        unsubscribe_token=None,
    )
    bootstrap.mail_log().record_queued(cut)

    pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
    at = (now + timedelta(minutes=5)).timestamp()
    barrier = threading.Barrier(4)
    results: list[dict[str, int]] = []

    def run() -> None:
        barrier.wait()
        results.append(pump.fire("subprocessor-notices", at))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and sum(r["queued"] for r in results) == len(readers)
    queued = [
        mail
        for mail in (json.loads(m["Body"]) for m in drain_mail_queue())
        if mail["purpose"] == "subprocessor_notice"
    ]
    assert sorted(address for mail in queued for address in mail["to"]) == sorted(readers)
    assert {m["mail_id"] for m in queued} >= {cut.mail_id}
