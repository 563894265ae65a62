"""Removing a ticket whole, on the emulator, after the product's own flows made it.

Carla mails in (an attachment, a CC, kept raw in S3); an agent replies with an uploaded
file, writes a note naming Bob, renames the ticket, tags and assigns it, has it open; an
upload is started and never used; AI results and a live connection listen to it.  Dora
mails too (the removal cut short), Gina chats (the chat's state, her history, an
unanswered question), and Erin's ticket is merged into Finn's (files the two share).
Then a scan of the whole table and a listing of the bucket find nothing of a removed
ticket: not its id, its requester's address (but in her contact record), nor a word only
it held; the inbox counts and Bob's notifications are right; a second removal counts {}.
Set up once for the module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.ai.model import AiResult, ResultKind, ResultStatus
from chalicelib.chat.insights import month_of, record_unanswered
from chalicelib.live.model import ConnectionKind, LiveConnection, ticket_topic
from chalicelib.store import keys, ticket_removal
from chalicelib.store.ai_repo import DynamoAiStore
from chalicelib.store.chat_insights_repo import ChatStatsItem, DynamoChatInsights
from chalicelib.store.chat_repo import ChatHistoryItem, ChatStateItem, _history_pk
from chalicelib.store.kb_index_repo import DynamoSearchGaps
from chalicelib.store.live_connections_repo import DynamoLiveConnections
from chalicelib.store.models import TicketMergeItem
from chalicelib.store.tickets_repo import DynamoTicketStore
from chalicelib.tickets import merging
from devstack.pump import EventPump
from fakes.mailgun import InboundAttachment, inbound_form
from tests.integration.chat_helpers import enable_chat, start
from tests.integration.conftest import Api, accept_invitation, invite
from tests.integration.removal_helpers import (
    call,
    drain,
    empty,
    holding,
    mail_in,
    removal,
    table_items,
    upload,
)
from tests.integration.test_ticket_merges import Crash, StoreThatCrashes
from tests.stages import TEST_STAGE

CARLA = "carla.remove@customer.test"
WORD = "xylophonic"  # only Carla's ticket holds it
FIRST_SUBJECT_WORD = "glockenwhirl"  # her ticket's subject before it was renamed
DORA_WORD = "quokkaberry"
GINA = "gina.chat@customer.test"
GINA_QUESTION = "Is the marzipanic plan on sale?"
ERIN_WORD = "fennelquartz"
FINN_WORD = "tamarindo"
CONTACT_KINDS = ("contact", "contact_email", "contact_index")  # the contact stays


@dataclass
class Desk:
    api: Api
    pump: EventPump
    aws: Any
    owner: str
    agent: str
    agent_id: str
    workspace_id: str
    carla: str
    dora: str
    chat: str
    erin: str
    finn: str
    erin_file: str

    def ticket(self, query: str) -> dict[str, Any]:
        [found] = call(self.api, "GET", f"/v1/tickets?q={query}", self.owner)["tickets"]
        return dict(found)


def _ai_result(workspace_id: str, ticket_id: str, kind: ResultKind, text: str) -> None:
    DynamoAiStore().put_result(
        AiResult(
            workspace_id=workspace_id,
            ticket_id=ticket_id,
            kind=kind,
            key="",
            status=ResultStatus.READY,
            requested_by="system",
            requested_at=datetime.now(UTC),
            payload={"text": text},
            completed_at=datetime.now(UTC),
        )
    )


def _carla(api: Api, pump: EventPump, owner: dict[str, Any], agent_id: str) -> str:
    token, ws = owner["token"], owner["workspace"]["id"]
    mail_in(
        api,
        pump,
        inbound_form(
            recipient=owner["workspace"]["inbound_address"],
            sender=CARLA,
            from_header=f"Carla Remove <{CARLA}>",
            subject=f"My {FIRST_SUBJECT_WORD} order",
            body_plain=f"My {WORD} order is late.",
            extra_headers=[("Cc", "cleo@partner.test")],
            attachments=[
                InboundAttachment("receipt.txt", "text/plain", f"{WORD} receipt".encode())
            ],
        ),
    )
    [ticket] = call(api, "GET", f"/v1/tickets?q={FIRST_SUBJECT_WORD}", token)["tickets"]
    ticket_id = ticket["id"]
    used = upload(api, token, ticket_id, "label.txt", f"{WORD} label".encode())
    path = f"/v1/tickets/{ticket_id}"
    call(
        api,
        "POST",
        f"{path}/messages",
        token,
        {"body": f"Your {WORD} label", "attachment_ids": [used]},
    )
    call(api, "POST", f"{path}/messages", token, {"body": f"@Bob check the {WORD}", "kind": "note"})
    call(
        api,
        "PATCH",
        path,
        token,
        {"subject": f"Late {WORD}", "assignee_id": agent_id, "tags": ["vip"]},
    )
    upload(api, token, ticket_id, "unused.txt", f"{WORD} draft".encode())
    _ai_result(ws, ticket_id, ResultKind.TRIAGE, f"{WORD} shipping")
    _ai_result(ws, ticket_id, ResultKind.SUMMARY, f"Carla's {WORD} order is late")
    DynamoLiveConnections().add(
        LiveConnection(
            "agent-conn-1",
            ws,
            ConnectionKind.AGENT,
            int(datetime.now(UTC).timestamp()) + 3600,
            user_id=agent_id,
            topics=("inbox", ticket_topic(ticket_id)),
        )
    )
    return str(ticket_id)


def _gina(api: Api, owner: dict[str, Any]) -> str:
    ws = owner["workspace"]["id"]
    key = enable_chat(api, owner, pre_chat_fields={"name": "optional", "email": "optional"})
    started = start(api, key["public_key"], GINA_QUESTION, email=GINA, name="Gina Chat")
    chat = DynamoTicketStore().get_ticket(ws, started["conversation"]["id"])
    assert chat is not None
    # What the answer bot records when no article answers, and a verified visitor's history.
    month = month_of(chat.created_at, "UTC")
    record_unanswered(
        DynamoChatInsights(), DynamoSearchGaps(), ws, month, GINA_QUESTION, chat.created_at
    )
    pk = keys.ticket_pk(ws, chat.id)
    ChatStateItem(pk, "CHAT").update(actions=[ChatStateItem.user_id.set("gina-7")])
    ChatHistoryItem(
        _history_pk(ws, "gina-7"),
        f"CONV#{chat.id}",
        ticket_id=chat.id,
        visitor_id="v1",
        subject=GINA_QUESTION,
        created_at=chat.created_at,
    ).save()
    DynamoLiveConnections().add(
        LiveConnection(
            "visitor-conn-1",
            ws,
            ConnectionKind.VISITOR,
            int(datetime.now(UTC).timestamp()) + 3600,
            ticket_id=chat.id,
            topics=(ticket_topic(chat.id),),
        )
    )
    return chat.id


def _merged(api: Api, token: str) -> tuple[str, str, str]:
    """Erin's ticket (with an agent's file) merged into Finn's: (erin, finn, the file's key)."""
    made = {}
    for who, word in (("erin", ERIN_WORD), ("finn", FINN_WORD)):
        made[who] = call(
            api,
            "POST",
            "/v1/tickets",
            token,
            {
                "requester": {"email": f"{who}@customer.test"},
                "subject": f"{word} question",
                "body": f"About {word}",
            },
        )["id"]
    erin, finn = made["erin"], made["finn"]
    file_id = upload(api, token, erin, "erin.txt", f"{ERIN_WORD} file".encode())
    call(
        api,
        "POST",
        f"/v1/tickets/{erin}/messages",
        token,
        {"body": f"{ERIN_WORD} answer", "attachment_ids": [file_id]},
    )
    call(api, "POST", f"/v1/tickets/{erin}/merge", token, {"into": finn})
    return erin, finn, f"attachments/{file_id}"


@pytest.fixture(scope="module")
def desk(aws: Any) -> Iterator[Desk]:
    empty(aws)
    with Client(app, stage_name=TEST_STAGE) as client:
        api = Api(client)
        pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
        owner = api.sign_up(workspace="Acme Support", email="ann@acme.test")
        status, agent, _ = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))
        assert status == 200, agent
        carla = _carla(api, pump, owner, agent["user"]["id"])
        mail_in(
            api,
            pump,
            inbound_form(
                recipient=owner["workspace"]["inbound_address"],
                sender="dora@customer.test",
                subject=f"A {DORA_WORD} question",
                body_plain=f"Where is my {DORA_WORD}?",
                attachments=[InboundAttachment("d.txt", "text/plain", DORA_WORD.encode())],
            ),
        )
        chat = _gina(api, owner)
        erin, finn, erin_file = _merged(api, owner["token"])
        drain(pump, "search_indexer")
        yield Desk(
            api=api,
            pump=pump,
            aws=aws,
            owner=owner["token"],
            agent=agent["token"],
            agent_id=agent["user"]["id"],
            workspace_id=owner["workspace"]["id"],
            carla=carla,
            dora=call(api, "GET", f"/v1/tickets?q={DORA_WORD}", owner["token"])["tickets"][0]["id"],
            chat=chat,
            erin=erin,
            finn=finn,
            erin_file=erin_file,
        )


def _counts(desk: Desk) -> dict[str, int]:
    return DynamoTicketStore().inbox_counts(desk.workspace_id)


def test_removing_a_ticket_leaves_nothing_of_it_in_the_table_or_the_bucket(desk: Desk) -> None:
    ws, ticket_id = desk.workspace_id, desk.carla
    needles = (ticket_id, CARLA, WORD, FIRST_SUBJECT_WORD)
    assert holding(desk.aws, *needles, unless=CONTACT_KINDS)
    before = _counts(desk)
    told = call(desk.api, "GET", "/v1/notifications", desk.agent)
    assert any(n["ticket_id"] == ticket_id for n in told["notifications"]), told

    held = ticket_removal.partition_keys(keys.ticket_pk(ws, ticket_id))
    assert len(held) > 10 and ticket_removal.partition_keys(held[0][0], page_size=3) == held

    removed = removal(desk.aws).remove(ws, ticket_id)

    assert removed["tickets"] == 1 and removed["messages"] == 3, removed
    assert removed["attachments"] == 3 and removed["raw_mail"] == 1, removed
    assert removed["ai_results"] == 2 and removed["notifications"] >= 2, removed
    assert removed["outbound_mail"] >= 1 and removed["search_postings"] > 10, removed
    assert holding(desk.aws, *needles, unless=CONTACT_KINDS) == []
    after = _counts(desk)
    assert after["tag:vip"] == before["tag:vip"] - 1 == 0
    assert after[f"assignee:{desk.agent_id}"] == before[f"assignee:{desk.agent_id}"] - 1
    moved = {b for b in before if before[b] != after.get(b)}
    assert moved == {"tag:vip", f"assignee:{desk.agent_id}", "status:open"}, (before, after)
    told = call(desk.api, "GET", "/v1/notifications", desk.agent)
    assert all(n["ticket_id"] != ticket_id for n in told["notifications"]), told
    assert told["unread_count"] == sum(1 for n in told["notifications"] if not n["read"])
    status, _, _ = desk.api.request("GET", f"/v1/tickets/{ticket_id}", token=desk.owner)
    assert status == 404
    assert call(desk.api, "GET", f"/v1/tickets?q={WORD}", desk.owner)["tickets"] == []
    connection = DynamoLiveConnections().get("agent-conn-1")
    assert connection is not None and connection.topics == ("inbox",)

    assert removal(desk.aws).remove(ws, ticket_id) == {}


def test_a_removal_cut_short_then_run_again_leaves_nothing(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, ticket_id = desk.workspace_id, desk.dora
    real = ticket_removal.delete_keys
    calls: list[int] = []

    def fails_once(found: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the process died here")
        real(found)

    monkeypatch.setattr(ticket_removal, "delete_keys", fails_once)
    with pytest.raises(RuntimeError):
        removal(desk.aws).remove(ws, ticket_id)
    assert DynamoTicketStore().get_ticket(ws, ticket_id) is not None  # the ticket goes last

    again = removal(desk.aws).remove(ws, ticket_id)

    assert again["tickets"] == 1 and again["outbound_mail"] == 1, again  # its acknowledgement
    assert holding(desk.aws, ticket_id, DORA_WORD, "dora@customer.test", unless=CONTACT_KINDS) == []
    assert removal(desk.aws).remove(ws, ticket_id) == {}


def test_removing_a_chat_removes_its_state_history_question_and_visitor_connection(
    desk: Desk,
) -> None:
    ws, chat = desk.workspace_id, desk.chat
    month = month_of(datetime.now(UTC), "UTC")
    stats = ChatStatsItem.get(keys.workspace_pk(ws), keys.chat_stats_sk(month))
    assert stats.question_slots == 1

    removed = removal(desk.aws).remove(ws, chat)

    # The live state, the history entry, the month's question and the content gap.
    assert removed["tickets"] == 1 and removed["chat_records"] == 4, removed
    assert holding(desk.aws, chat, "marzipanic", GINA, unless=CONTACT_KINDS) == []
    stats = ChatStatsItem.get(keys.workspace_pk(ws), keys.chat_stats_sk(month))
    assert stats.question_slots == 0
    assert DynamoLiveConnections().get("visitor-conn-1") is None
    insights = call(desk.api, "GET", f"/v1/chat/insights?month={month}", desk.owner)
    assert insights["unanswered_questions"] == []


def test_a_merged_ticket_and_its_target_keep_the_files_they_share_until_both_go(
    desk: Desk,
) -> None:
    ws, erin, finn = desk.workspace_id, desk.erin, desk.finn
    bucket = desk.aws.client("s3")
    stored = [
        o["Key"]
        for o in bucket.list_objects_v2(Bucket=desk.aws.bucket).get("Contents", [])
        if o["Key"].endswith(desk.erin_file)
    ]
    assert len(stored) == 1

    removed = removal(desk.aws).remove(ws, erin)

    # The target goes on whole: its copy of Erin's answer, with the file.
    assert removed["tickets"] == 1 and "attachments" not in removed, removed
    detail = call(desk.api, "GET", f"/v1/tickets/{finn}", desk.owner)
    answer = [m for m in detail["messages"] if ERIN_WORD in m["text"] and m["attachments"]]
    assert len(answer) == 1
    assert bucket.list_objects_v2(Bucket=desk.aws.bucket, Prefix=stored[0])["KeyCount"] == 1
    # Nothing is Erin's ticket's any more (the copy's RFC Message-ID still cites its id).
    assert [
        item
        for item in table_items(desk.aws)
        if erin in item["PK"]["S"] or erin in (item.get("ticket_id", {}).get("S"), item["SK"]["S"])
    ] == []

    removed = removal(desk.aws).remove(ws, finn)

    assert removed["tickets"] == 1 and removed["attachments"] == 1, removed
    left = holding(desk.aws, erin, finn, ERIN_WORD, FINN_WORD, unless=CONTACT_KINDS)
    assert left == []


def _two_tickets(desk: Desk, first: str, second: str) -> tuple[str, str]:
    return tuple(  # type: ignore[return-value]
        call(
            desk.api,
            "POST",
            "/v1/tickets",
            desk.owner,
            {
                "requester": {"email": f"{who}@customer.test"},
                "subject": f"From {who}",
                "body": "Hi",
            },
        )["id"]
        for who in (first, second)
    )


def _merge_record(desk: Desk, source: str) -> TicketMergeItem | None:
    try:
        return TicketMergeItem.get(
            keys.workspace_pk(desk.workspace_id), keys.merge_sk(source), consistent_read=True
        )
    except TicketMergeItem.DoesNotExist:
        return None


def test_removing_the_target_of_an_unfinished_merge_removes_its_record_and_keeps_the_source(
    desk: Desk,
) -> None:
    hana, ivo = _two_tickets(desk, "hana", "ivo")
    deps = bootstrap.ticket_deps()
    crashing = replace(deps, store=StoreThatCrashes(deps.store, "merge_messages", False))
    with pytest.raises(Crash):  # the merge stops after its record: finished later by a job
        merging.merge_tickets(crashing, desk.workspace_id, hana, ivo, "user:ann")
    record = _merge_record(desk, hana)
    assert record is not None and record.status == "pending"

    removed = removal(desk.aws).remove(desk.workspace_id, ivo)
    drain(desk.pump, "search_indexer")  # the merge's delayed check finds nothing to finish

    assert removed["tickets"] == 1
    assert _merge_record(desk, hana) is None
    assert call(desk.api, "GET", f"/v1/tickets/{hana}", desk.owner)["id"] == hana


def test_removing_a_ticket_whose_merges_all_finished_reads_no_merge_records(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    jade, kim = _two_tickets(desk, "jade", "kim")
    call(desk.api, "POST", f"/v1/tickets/{jade}/merge", desk.owner, {"into": kim})
    drain(desk.pump, "search_indexer")
    assert _merge_record(desk, jade).status == "done"  # type: ignore[union-attr]
    queried: list[Any] = []
    monkeypatch.setattr(TicketMergeItem, "query", lambda *a, **k: queried.append(a) or iter(()))

    removed = removal(desk.aws).remove(desk.workspace_id, kim)

    assert removed["tickets"] == 1 and queried == []
