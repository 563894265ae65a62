"""The erasure's ticket phases on the emulator, after the product's own flows.

Carla mails twice (one mail with an attachment); her second ticket is merged into Hugo's.
Bob mails with Carla in CC and her address (and a very long one) in his text; Dan's ticket
was opened with her address in its subject, then renamed.  The `tickets` phase, a ticket a
step, removes both of hers and the copy of her mail on Hugo's ticket; the `mentions` phase
replaces her address everywhere else, keeping the rest of the text; a scan of the table and
a listing of the bucket find her address only in her contact record (the `contact` phase's).
Each phase run again counts nothing; a `mentions` step cut short and run again finishes.
Before, her export holds the tickets of others she was copied on (found by her address).
Set up once for the module."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.ai.model import AiResult, ResultKind, ResultStatus
from chalicelib.privacy.erasure import ERASED, ErasurePhase, Subject
from chalicelib.privacy.export_bundle import BundleRequest, write_contact_bundle
from chalicelib.store.ai_repo import DynamoAiStore
from chalicelib.store.erasure_tickets import MentionsErasure, TicketsErasure
from chalicelib.store.ticket_removal import DynamoTicketRemoval
from chalicelib.store.tickets_repo import DynamoTicketStore
from devstack.pump import EventPump
from fakes.mailgun import InboundAttachment, inbound_form
from tests.integration.conftest import Api
from tests.integration.removal_helpers import call, drain, empty, holding, mail_in
from tests.stages import TEST_STAGE

CARLA = "carla.zuber@customer.test"
LONG = "someone.with.a.rather.long.name@subdomain.example-customer.test"
HER_WORDS = ("xylophonic", "glockenwhirl")  # only her two mails hold them
CONTACT_KINDS = ("contact", "contact_email", "contact_index")  # the `contact` phase's


@dataclass
class Desk:
    api: Api
    aws: Any
    owner: str
    workspace_id: str
    contact_id: str
    bob: str
    dan: str
    hugo: str

    def subject(self, email: str, contact_id: str | None = None) -> Subject:
        return Subject(self.workspace_id, email, contact_id)

    def detail(self, ticket_id: str) -> dict[str, Any]:
        return dict(call(self.api, "GET", f"/v1/tickets/{ticket_id}", self.owner))

    def found(self, query: str) -> list[str]:
        answer = call(self.api, "GET", f"/v1/tickets?q={query}", self.owner)
        return [t["id"] for t in answer["tickets"]]


def _run(phase: ErasurePhase, subject: Subject) -> tuple[dict[str, int], tuple[str, ...], int]:
    """Every step of the phase: the counts added up, the tickets named, the steps taken."""
    counts: dict[str, int] = {}
    ticket_ids: tuple[str, ...] = ()
    cursor: str | None = None
    for steps in range(1, 30):
        done = phase.step(subject, cursor)
        for name, value in done.counts.items():
            counts[name] = counts.get(name, 0) + value
        ticket_ids += done.ticket_ids
        cursor = done.cursor
        if cursor is None:
            return counts, ticket_ids, steps
    raise AssertionError("the phase never finished")


@pytest.fixture(scope="module")
def desk(aws: Any) -> Iterator[Desk]:
    empty(aws)
    with Client(app, stage_name=TEST_STAGE) as client:
        api = Api(client)
        pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
        owner = api.sign_up(workspace="Acme Support", email="ann@acme.test")
        token, inbound = owner["token"], owner["workspace"]["inbound_address"]
        for subject, text, files in (
            ("My xylophonic order", "My xylophonic order is late.", True),
            ("Glockenwhirl again", "The glockenwhirl broke.", False),
        ):
            attachments = [InboundAttachment("r.txt", "text/plain", text.encode())] if files else []
            mail_in(
                api,
                pump,
                inbound_form(
                    recipient=inbound,
                    sender=CARLA,
                    from_header=f"Carla Zuber <{CARLA}>",
                    subject=subject,
                    body_plain=text,
                    attachments=attachments,
                ),
            )
        mail_in(
            api,
            pump,
            inbound_form(
                recipient=inbound,
                sender="bob@partner.test",
                subject="Invoice question",
                body_plain=f"Please loop in {CARLA} about the invoice for Bob's order. Ask {LONG}.",
                extra_headers=[("Cc", f"Carla Zuber <{CARLA}>")],
            ),
        )
        opened = {}
        for who, subject in (("dan", f"Forwarded from {CARLA}"), ("hugo", "Tamarindo question")):
            opened[who] = call(
                api,
                "POST",
                "/v1/tickets",
                token,
                {
                    "requester": {"email": f"{who}@partner.test"},
                    "subject": subject,
                    "body": subject,
                },
            )["id"]
        call(api, "PATCH", f"/v1/tickets/{opened['dan']}", token, {"subject": "Forwarded request"})
        [glockenwhirl] = call(api, "GET", "/v1/tickets?q=glockenwhirl", token)["tickets"]
        call(
            api, "POST", f"/v1/tickets/{glockenwhirl['id']}/merge", token, {"into": opened["hugo"]}
        )
        [bob] = call(api, "GET", "/v1/tickets?q=invoice", token)["tickets"]
        DynamoAiStore().put_result(
            AiResult(
                workspace_id=owner["workspace"]["id"],
                ticket_id=bob["id"],
                kind=ResultKind.SUMMARY,
                key="",
                status=ResultStatus.READY,
                requested_by="system",
                requested_at=datetime.now(UTC),
                payload={"summary": f"Bob wants {CARLA} in the loop."},
            )
        )
        drain(pump, "search_indexer")
        ws = owner["workspace"]["id"]
        contact = DynamoTicketStore().find_contact_by_email(ws, CARLA)
        assert contact is not None
        yield Desk(api, aws, token, ws, contact.id, bob["id"], opened["dan"], opened["hugo"])


def test_her_export_holds_the_tickets_of_others_she_was_copied_on(desk: Desk) -> None:
    contact = DynamoTicketStore().find_contact_by_email(desk.workspace_id, CARLA)
    assert contact is not None
    request = BundleRequest("E1", desk.workspace_id, "user:U1", datetime.now(UTC), 30)
    target = io.BytesIO()

    counts = write_contact_bundle(
        bootstrap.contact_data(), request, contact, target, lambda progress: None
    )

    bundle = zipfile.ZipFile(target)
    copied = [json.loads(bundle.read(n)) for n in bundle.namelist() if n.startswith("cc_tickets/")]
    # Bob's (she is in CC) and Hugo's (her mail merged in); Dan's only names her.
    assert sorted(t["ticket"]["id"] for t in copied) == sorted([desk.bob, desk.hugo])
    assert counts["cc_tickets"] == 2 and counts["tickets"] == 2, counts


def test_the_tickets_phase_removes_each_of_their_tickets_and_their_copies(desk: Desk) -> None:
    hugo_before = desk.detail(desk.hugo)
    assert any("glockenwhirl" in m["text"] for m in hugo_before["messages"])
    phase = TicketsErasure(DynamoTicketRemoval(bootstrap.blob_store()), per_step=1)
    subject = desk.subject(CARLA, desk.contact_id)

    counts, ticket_ids, steps = _run(phase, subject)

    assert counts["tickets"] == 2 and len(set(ticket_ids)) == 2 and steps == 3, counts
    # Her two mails, and the copy of the second on Hugo's ticket.
    assert counts["messages"] == 3 and counts["attachments"] == 1, counts
    assert counts["raw_mail"] == 2 and counts["search_postings"] > 0, counts
    assert holding(desk.aws, *HER_WORDS, *ticket_ids, unless=CONTACT_KINDS) == []
    hugo = desk.detail(desk.hugo)
    assert [m["text"] for m in hugo["messages"]] == ["Tamarindo question"]
    assert _run(phase, subject)[:2] == ({}, ())
    assert phase.step(desk.subject(CARLA), None).cursor is None  # no contact: no tickets


def test_the_mentions_phase_replaces_their_address_in_every_other_ticket(desk: Desk) -> None:
    mentioned = {desk.bob, desk.dan, desk.hugo}
    assert mentioned <= set(desk.found(CARLA))
    phase = MentionsErasure(bootstrap.blob_store(), per_step=1)

    counts, _, steps = _run(phase, desk.subject(CARLA))

    # Bob's mail and ticket (CC), Dan's first message, Hugo's ticket (CC from the merge);
    # Dan's old subject in his ticket's activity is rewritten too (not counted); Bob's mail
    # as it arrived is deleted.
    assert counts == {"mentions": 4, "raw_mail": 1} and steps >= 3, counts
    assert holding(desk.aws, CARLA, unless=CONTACT_KINDS) == []
    bob = desk.detail(desk.bob)
    [mail] = bob["messages"]
    assert mail["text"] == f"Please loop in {ERASED} about the invoice for Bob's order. Ask {LONG}."
    assert CARLA not in bob["cc"] and mail["cc"] == [ERASED]
    assert desk.found(CARLA) == [] and desk.bob in desk.found("erased")
    assert desk.found("invoice") == [desk.bob]
    assert _run(phase, desk.subject(CARLA))[0] == {}


def test_a_mentions_step_cut_short_then_run_again_finishes(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    phase = MentionsErasure(bootstrap.blob_store())
    subject = desk.subject(LONG)
    real = phase._unpost

    def dies(*args: Any) -> None:
        raise RuntimeError("the process died here")

    monkeypatch.setattr(phase, "_unpost", dies)
    with pytest.raises(RuntimeError):
        phase.step(subject, None)
    monkeypatch.setattr(phase, "_unpost", real)

    counts, _, _ = _run(phase, subject)

    assert holding(desk.aws, LONG) == []
    [mail] = desk.detail(desk.bob)["messages"]
    assert (
        mail["text"] == f"Please loop in {ERASED} about the invoice for Bob's order. Ask {ERASED}."
    )
    assert counts == {}  # the first run rewrote the ticket; this one only unposted its words
    assert desk.found("subdomain") == []
