"""A contact's export also holds the tickets of others they were copied on (cc_tickets/),
found through the search postings of their address, with the messages they could see."""

from __future__ import annotations

import io
import json
import zipfile

from chalicelib.privacy.exports import build_export, request_export
from chalicelib.tickets.model import Channel, MessageKind
from tests.export_fakes import OTHER_WS, WS, ExportWorld

CAROL = "carol@customer.test"


def _bundle(world: ExportWorld) -> zipfile.ZipFile:
    view = request_export(world.deps(), WS, "user:01HOWNER", CAROL)
    done = build_export(world.deps(), WS, view.export.id)
    assert done is not None
    return zipfile.ZipFile(io.BytesIO(world.stored[done.object_key or ""]))


def _world() -> ExportWorld:
    world = ExportWorld()
    carol = world.contact(WS, CAROL, "Carol Diaz")
    own = world.ticket(WS, carol, Channel.EMAIL, cc=["bob@partner.test"])
    world.message(own, "My own question")
    bob = world.contact(WS, "bob@partner.test", "Bob Stone")
    copied = world.ticket(WS, bob, Channel.EMAIL, cc=[CAROL])
    world.message(copied, "Invoice for Bob and Carol", cc=[CAROL], attachment=("b.pdf", b"BOB"))
    world.message(copied, "Here it is", kind=MessageKind.REPLY)
    world.message(copied, "Bob pays late", kind=MessageKind.NOTE)
    dan = world.contact(WS, "dan@partner.test", "Dan Vale")
    named = world.ticket(WS, dan, Channel.EMAIL)
    world.message(named, f"Ask {CAROL} about it")  # names her: not hers
    noted = world.ticket(WS, dan, Channel.EMAIL)
    world.message(noted, "Internal", kind=MessageKind.NOTE, cc=[CAROL])  # the team's note
    elsewhere = world.contact(OTHER_WS, "eve@partner.test", "Eve Far")
    theirs = world.ticket(OTHER_WS, elsewhere, Channel.EMAIL, cc=[CAROL])
    world.message(theirs, "Other workspace text", cc=[CAROL])
    return world


def test_a_ticket_she_was_copied_on_is_in_its_own_folder_with_what_she_could_see():
    bundle = _bundle(_world())
    names = set(bundle.namelist())

    assert {"tickets/1.json", "cc_tickets/2.json"} <= names
    assert not {"cc_tickets/1.json", "cc_tickets/3.json", "cc_tickets/4.json"} & names
    copied = json.loads(bundle.read("cc_tickets/2.json"))
    assert copied["ticket"]["requester"]["email"] == "bob@partner.test"
    assert [m["kind"] for m in copied["messages"]] == ["customer", "reply"]
    # Bob's file is his: listed, not included.
    assert copied["messages"][0]["attachments"][0]["file"] is None
    assert not [n for n in names if n.startswith("attachments/2/")]
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["counts"]["cc_tickets"] == 1 and manifest["counts"]["tickets"] == 1
    assert manifest["counts"]["messages"] == 3
    assert any("cc_tickets/" in note for note in manifest["notes"])
    everything = "\n".join(bundle.read(n).decode() for n in names)
    assert "Bob pays late" not in everything and "Other workspace" not in everything


def test_without_tickets_of_others_the_folder_is_absent_and_counted_zero():
    world = ExportWorld()
    carol = world.contact(WS, CAROL, "Carol Diaz")
    world.message(world.ticket(WS, carol, Channel.CHAT), "Hi")

    bundle = _bundle(world)

    assert not [n for n in bundle.namelist() if n.startswith("cc_tickets/")]
    assert json.loads(bundle.read("manifest.json"))["counts"]["cc_tickets"] == 0
