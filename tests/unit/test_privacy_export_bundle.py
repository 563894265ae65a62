"""Data-subject exports against in-memory fakes of the stores (tests/export_fakes.py): the
bundle holds every class of a contact's data and nothing of another contact or another
workspace; the request, the job (idempotent, with progress) and the download link."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.errors import NotFound
from chalicelib.privacy.contact_data import ArticleVotes
from chalicelib.privacy.export_bundle import safe_name
from chalicelib.privacy.exports import (
    EXPORT_RETENTION_DAYS,
    LINK_SECONDS,
    ExportStatus,
    build_export,
    exports_of,
    request_export,
    view_export,
)
from chalicelib.tickets.model import Channel, MessageKind
from tests.export_fakes import OTHER_WS, WS, ExportWorld

OWNER = "user:01HOWNER"


def _world() -> ExportWorld:
    world = ExportWorld()
    carol = world.contact(WS, "carol@customer.test", "Carol Diaz")
    first = world.ticket(WS, carol, Channel.EMAIL)
    world.message(
        first, "My invoice is wrong", attachment=("../../invoice.pdf", b"%PDF"), raw=b"From: c"
    )
    world.message(first, "We fixed it", kind=MessageKind.REPLY)
    world.message(first, "Carol is a VIP, be nice", kind=MessageKind.NOTE)
    second = world.ticket(WS, carol, Channel.EMAIL)
    world.message(second, "Another question", raw=b"From: c again")
    chat = world.ticket(WS, carol, Channel.CHAT)
    world.message(chat, "Hi, is there a yearly price?")
    answer = world.message(chat, "Yes, 10% off [1]", kind=MessageKind.BOT)
    world.feedback(chat, answer, "helped")
    world.triage(first, "billing")
    world.booking(WS, carol, "Product demo with Carol")
    # Someone else in the same workspace, and Carol's namesake in another workspace.
    dan = world.contact(WS, "dan@other.test", "Dan Other")
    dans = world.ticket(WS, dan, Channel.EMAIL)
    world.message(dans, "Dan's secret", attachment=("dan.pdf", b"DAN"), raw=b"From: dan")
    world.triage(dans, "dan-category")
    world.booking(WS, dan, "Dan's meeting")
    elsewhere = world.contact(OTHER_WS, "carol@customer.test", "Carol Elsewhere")
    theirs = world.ticket(OTHER_WS, elsewhere, Channel.EMAIL)
    world.message(theirs, "Other workspace text")
    world.booking(OTHER_WS, elsewhere, "Other workspace meeting")
    return world


def _exported(world: ExportWorld, email: str | None, workspace_id: str = WS) -> zipfile.ZipFile:
    view = request_export(world.deps(), workspace_id, OWNER, email)
    done = build_export(world.deps(), workspace_id, view.export.id)
    assert done is not None and done.status is ExportStatus.READY
    return zipfile.ZipFile(io.BytesIO(world.stored[done.object_key or ""]))


def _everything(bundle: zipfile.ZipFile) -> str:
    return "\n".join(bundle.read(name).decode("utf-8", "replace") for name in bundle.namelist())


def test_a_contacts_bundle_holds_every_class_of_their_data():
    bundle = _exported(_world(), "carol@customer.test")
    names = set(bundle.namelist())
    assert {
        "manifest.json",
        "contact.json",
        "tickets/1.json",
        "tickets/2.json",
        "tickets/3.json",
        "bookings.json",
        "ai_results.json",
        "feedback.json",
    } <= names
    [attachment] = [n for n in names if n.startswith("attachments/1/")]
    assert attachment.endswith("-invoice.pdf") and bundle.read(attachment) == b"%PDF"
    assert len([n for n in names if n.startswith("raw_mail/")]) == 2
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["counts"] == {
        "contact": 1,
        "tickets": 3,
        "cc_tickets": 0,
        "chats": 1,
        "messages": 5,
        "attachments": 1,
        "raw_mail": 2,
        "bookings": 1,
        "ai_results": 1,
        "feedback": 1,
    }
    assert manifest["requested_by"] == OWNER and manifest["scope"] == "contact"
    assert manifest["subject"]["email"] == "carol@customer.test"
    assert any("anonymous" in note for note in manifest["notes"])
    assert any("notes are the team's" in note for note in manifest["notes"])
    assert json.loads(bundle.read("contact.json"))["name"] == "Carol Diaz"
    chat = json.loads(bundle.read("tickets/3.json"))
    assert chat["ticket"]["channel"] == "chat"
    assert [m["kind"] for m in chat["messages"]] == ["customer", "bot"]
    feedback = json.loads(bundle.read("feedback.json"))
    assert feedback["chat_answers"][0]["verdict"] == "helped"
    assert feedback["help_centre"]["attributable"] is False
    [result] = json.loads(bundle.read("ai_results.json"))
    assert (result["kind"], result["output"]) == ("triage", {"category": "billing"})
    [booking] = json.loads(bundle.read("bookings.json"))
    assert booking["title"] == "Product demo with Carol"


def test_internal_notes_stay_out_of_a_contacts_bundle():
    bundle = _exported(_world(), "carol@customer.test")
    first = json.loads(bundle.read("tickets/1.json"))
    assert [m["kind"] for m in first["messages"]] == ["customer", "reply"]
    assert "VIP" not in _everything(bundle)


def test_another_contacts_and_another_workspaces_data_are_absent():
    everything = _everything(_exported(_world(), "carol@customer.test"))
    for foreign in (
        "Dan",
        "dan@other.test",
        "dan-category",
        "Carol Elsewhere",
        "Other workspace",
        OTHER_WS,
    ):
        assert foreign not in everything


def test_the_workspace_bundle_holds_every_class_of_its_data_and_nothing_of_another():
    bundle = _exported(_world(), None)
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["scope"] == "workspace"
    counts = manifest["counts"]
    assert (counts["contacts"], counts["tickets"], counts["chats"]) == (2, 4, 1)
    assert (counts["messages"], counts["bookings"]) == (7, 2)
    assert set(counts) == {
        "contacts",
        "tickets",
        "chats",
        "messages",
        "attachments",
        "raw_mail",
        "bookings",
        "ai_results",
        "feedback",
        "help_centre_articles",
    }
    names = set(bundle.namelist())
    assert {"ai_results.json", "feedback.json", "bookings.json", "contacts.json"} <= names
    assert counts["attachments"] == len([n for n in names if n.startswith("attachments/")])
    assert counts["raw_mail"] == len([n for n in names if n.startswith("raw_mail/")])
    assert counts["ai_results"] == len(json.loads(bundle.read("ai_results.json")))
    everything = _everything(bundle)
    assert "VIP" in everything  # the workspace's own notes
    assert "Carol Elsewhere" not in everything and "Other workspace" not in everything


def test_the_workspace_bundle_lists_each_help_centre_articles_votes_and_not_anothers():
    world = _world()
    world.article_votes += [
        (WS, ArticleVotes("a1", "fr", "Remboursements", 12, 3)),
        (OTHER_WS, ArticleVotes("a2", "en", "Their article", 1, 0)),
    ]
    bundle = _exported(world, None)
    feedback = json.loads(bundle.read("feedback.json"))
    assert feedback["help_centre_articles"] == [
        {
            "article_id": "a1",
            "locale": "fr",
            "title": "Remboursements",
            "helpful": 12,
            "not_helpful": 3,
        }
    ]
    assert json.loads(bundle.read("manifest.json"))["counts"]["help_centre_articles"] == 1


def test_an_unknown_address_is_refused_and_nothing_is_recorded():
    world = _world()
    with pytest.raises(NotFound) as refused:
        request_export(world.deps(), WS, OWNER, "nobody@customer.test")
    assert refused.value.code == "contact_not_found"
    assert world.exports == {} and world.queued == []


def test_a_request_is_recorded_pending_and_queued():
    world = _world()
    view = request_export(world.deps(), WS, OWNER, "carol@customer.test")
    assert view.status is ExportStatus.PENDING and view.download_url is None
    assert world.queued == [(WS, view.export.id)]
    assert [v.export.id for v in exports_of(world.deps(), WS)] == [view.export.id]
    assert exports_of(world.deps(), OTHER_WS) == []


def test_a_retried_job_rebuilds_the_same_bundle_and_a_ready_one_is_left_alone():
    world = _world()
    view = request_export(world.deps(), WS, OWNER, "carol@customer.test")
    done = build_export(world.deps(), WS, view.export.id)
    assert done is not None and done.object_key is not None
    first = world.stored[done.object_key]
    # A run that stopped after uploading: the job comes again while the export says building.
    world.exports[(WS, done.id)] = replace(done, status=ExportStatus.BUILDING)
    again = build_export(world.deps(), WS, done.id)
    assert again is not None and world.stored[done.object_key] == first
    assert again.attempts == 2 and again.counts == done.counts
    assert build_export(world.deps(), WS, done.id) == again


def test_progress_is_recorded_on_the_export_as_it_builds():
    world = _world()
    seen: list[str] = []
    view = request_export(world.deps(), WS, OWNER, "carol@customer.test")
    deps = world.deps()
    original = deps.exports.save

    def watch(export):  # type: ignore[no-untyped-def]
        seen.append(export.progress.phase)
        original(export)

    deps.exports.save = watch  # type: ignore[method-assign]
    build_export(deps, WS, view.export.id)
    assert seen[0] == "started" and seen[-1] == "ready"
    assert {"contact", "tickets", "bookings", "manifest"} <= set(seen)


def test_a_ready_export_answers_a_new_short_link_each_time_until_it_expires():
    world = _world()
    view = request_export(world.deps(), WS, OWNER, "carol@customer.test")
    build_export(world.deps(), WS, view.export.id)
    one = view_export(world.deps(), WS, view.export.id)
    two = view_export(world.deps(), WS, view.export.id)
    assert one.status is ExportStatus.READY and one.download_url != two.download_url
    assert f"expires={LINK_SECONDS}" in (one.download_url or "")
    assert one.export.expires_at == world.clock.moment + timedelta(days=EXPORT_RETENTION_DAYS)
    world.clock.moment += timedelta(days=EXPORT_RETENTION_DAYS, seconds=1)
    late = view_export(world.deps(), WS, view.export.id)
    assert late.status is ExportStatus.EXPIRED and late.download_url is None


def test_another_workspaces_export_is_not_found():
    world = _world()
    view = request_export(world.deps(), WS, OWNER, "carol@customer.test")
    with pytest.raises(NotFound):
        view_export(world.deps(), OTHER_WS, view.export.id)


def test_the_retention_matches_the_buckets_lifecycle_on_exports():
    from infra.template import EXPORTS_RETENTION_DAYS

    assert EXPORT_RETENTION_DAYS == EXPORTS_RETENTION_DAYS


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\photo.png", "photo.png"),
        ("..", "file"),
        ("rapport été.pdf", "rapport été.pdf"),
        ("a/b<c>.txt", "b_c_.txt"),
    ],
)
def test_file_names_in_the_bundle_stay_in_their_folder(given, kept):
    assert safe_name(given) == kept
