"""A delivery with more attachments than a ticket keeps: the agent is told what was left out."""

from email.message import EmailMessage

import pytest

from fakes.mailgun import InboundAttachment, inbound_form, inbound_mime
from tests.integration.conftest import drain_mail_queue

CUSTOMER = "carla@customer.test"


@pytest.fixture()
def workspace(api):
    owner = api.sign_up()
    drain_mail_queue()
    return owner


@pytest.fixture()
def deliver(deliver_mail, workspace):
    return deliver_mail


def _only_message(api, workspace):
    token = workspace["token"]
    [ticket] = api.request("GET", "/v1/tickets", token=token)[1]["tickets"]
    return api.request("GET", f"/v1/tickets/{ticket['id']}", token=token)[1]["messages"][0]


def test_a_mail_with_105_attachments_keeps_100_and_names_the_five_left_out(api, workspace, deliver):
    files = [InboundAttachment(f"scan-{n:03}.txt", "text/plain", b"page") for n in range(1, 106)]
    deliver(
        inbound_form(
            recipient=workspace["workspace"]["inbound_address"],
            sender=CUSTOMER,
            subject="All my scans",
            attachments=files,
        )
    )
    message = _only_message(api, workspace)
    assert len(message["attachments"]) == 100
    detail = message["delivery_detail"]
    assert "5 attachments over the limit of 100 per e-mail were not kept" in detail
    for n in range(101, 106):
        assert f"scan-{n}.txt" in detail
    assert "scan-100.txt" not in detail


def test_a_raw_mime_mail_with_105_attachments_says_what_was_left_out(api, workspace, deliver):
    mail = EmailMessage()
    mail["From"] = CUSTOMER
    mail["To"] = workspace["workspace"]["inbound_address"]
    mail["Subject"] = "Many files"
    mail.set_content("Here they are.")
    for n in range(1, 106):
        mail.add_attachment(b"page", maintype="application", subtype="pdf", filename=f"p{n}.pdf")
    deliver(inbound_mime(bytes(mail), recipient=mail["To"], sender=CUSTOMER))
    message = _only_message(api, workspace)
    assert len(message["attachments"]) == 100
    assert "5 attachments over the limit of 100" in message["delivery_detail"]
    assert "p105.pdf" in message["delivery_detail"]


def test_a_mail_within_the_limit_has_no_note(api, workspace, deliver):
    deliver(
        inbound_form(
            recipient=workspace["workspace"]["inbound_address"],
            sender=CUSTOMER,
            attachments=[InboundAttachment("one.txt", "text/plain", b"x")],
        )
    )
    assert _only_message(api, workspace)["delivery_detail"] is None
