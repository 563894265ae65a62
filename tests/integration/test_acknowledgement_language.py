"""The acknowledgement speaks the customer's language: the one their mail is written in, else
the one kept on their contact from an earlier mail, else the workspace's."""

import json

import pytest

from fakes.mailgun import inbound_form
from tests.integration.conftest import drain_mail_queue

FRENCH = (
    "Bonjour, je n'arrive plus à me connecter à mon compte depuis hier soir. "
    "Pouvez-vous m'aider à retrouver l'accès ? Merci d'avance."
)
ENGLISH = (
    "Hello, I cannot log in to my account since last night. "
    "Could you help me get access again? Thanks in advance."
)


def _workspace(api, locale):
    owner = api.sign_up(locale=locale)
    drain_mail_queue()
    return owner


def _ack_for(deliver, owner, body, sender="camille@client.test"):
    deliver(
        inbound_form(
            recipient=owner["workspace"]["inbound_address"],
            sender=sender,
            from_header=f"Camille Martin <{sender}>",
            subject="Compte",
            body_plain=body,
        )
    )
    [ack] = [
        json.loads(m["Body"])
        for m in drain_mail_queue()
        if json.loads(m["Body"])["purpose"] == "acknowledgement"
    ]
    return ack


@pytest.mark.parametrize(
    ("workspace_locale", "body", "expected"),
    [("en", FRENCH, "Nous avons bien reçu votre demande"), ("fr", ENGLISH, "We received")],
)
def test_a_customer_is_acknowledged_in_the_language_they_wrote_in(
    api, deliver_mail, workspace_locale, body, expected
):
    owner = _workspace(api, workspace_locale)
    ack = _ack_for(deliver_mail, owner, body)
    assert expected in ack["subject"]


def test_a_message_too_short_to_tell_is_answered_in_the_contacts_language(api, deliver_mail):
    owner = _workspace(api, "en")
    assert "reçu" in _ack_for(deliver_mail, owner, FRENCH)["subject"]
    ack = _ack_for(deliver_mail, owner, "??")
    assert "Nous avons bien reçu votre demande" in ack["subject"]
    assert "Bonjour Camille Martin" in ack["text"]


def test_a_new_customer_saying_too_little_is_answered_in_the_workspaces_language(api, deliver_mail):
    owner = _workspace(api, "fr")
    ack = _ack_for(deliver_mail, owner, "ok", sender="sam@client.test")
    assert "Nous avons bien reçu votre demande" in ack["subject"]


def test_the_contact_follows_the_language_of_their_latest_mail(api, deliver_mail):
    owner = _workspace(api, "fr")
    assert "We received" in _ack_for(deliver_mail, owner, ENGLISH)["subject"]
    assert "reçu" in _ack_for(deliver_mail, owner, FRENCH)["subject"]
    assert "reçu" in _ack_for(deliver_mail, owner, "!!")["subject"]


def test_a_workspace_may_address_its_french_customers_with_tu(api, deliver_mail):
    owner = _workspace(api, "en")
    status, body, _ = api.request(
        "PATCH", "/v1/workspace", {"formality": "informal"}, token=owner["token"]
    )
    assert status == 200 and body["formality"] == "informal"
    ack = _ack_for(deliver_mail, owner, FRENCH)
    assert "Nous avons bien reçu ta demande" in ack["subject"]
    assert "Tu peux ajouter des précisions" in ack["text"] and "vous" not in ack["text"]
    assert (
        "We received" in _ack_for(deliver_mail, owner, ENGLISH, sender="kim@client.test")["subject"]
    )


def test_the_form_of_address_is_formal_unless_changed_and_checked(api):
    owner = _workspace(api, "fr")
    status, body, _ = api.request("GET", "/v1/workspace", token=owner["token"])
    assert body["formality"] == "formal"
    status, body, _ = api.request(
        "PATCH", "/v1/workspace", {"formality": "casual"}, token=owner["token"]
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "formality"
