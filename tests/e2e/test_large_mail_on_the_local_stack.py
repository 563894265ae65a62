"""Mail too large to post (about 20 MB) on the stack `make run` starts: the local Mailgun
stand-in stores it and notifies the API like a store() route, the event pump runs the
inbound worker, which fetches it, and the ticket's attachments download intact."""

import hashlib
import os
import time
import uuid
from email.message import EmailMessage

import requests

PASSWORD = "correct horse battery"
MB = 1024 * 1024


def _until(probe, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout} s")


def _sign_up(api):
    response = requests.post(
        f"{api}/v1/signup",
        json={
            "workspace_name": "Big Files Desk",
            "name": "Ann",
            "email": f"owner-{uuid.uuid4().hex[:6]}@acme.test",
            "password": PASSWORD,
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_20_mb_mail_stored_by_mailgun_becomes_a_ticket_with_downloadable_attachments(stack):
    api = stack.api_url
    signup = _sign_up(api)
    auth = {"Authorization": f"Bearer {signup['token']}"}
    inbound = signup["workspace"]["inbound_address"]
    files = {
        "site-survey.pdf": ("application/pdf", os.urandom(10 * MB)),
        "damage.jpg": ("image/jpeg", os.urandom(4 * MB + MB // 2)),
        "readings.csv": ("text/csv", b"sensor,value\n" + b"t1,20.5\n" * 4000),
    }
    mail = EmailMessage()
    mail["From"] = "Dana Surveyor <dana@surveys.test>"
    mail["To"] = inbound
    mail["Subject"] = "Survey results with photos"
    mail["Message-ID"] = f"<survey-{uuid.uuid4().hex}@surveys.test>"
    mail.set_content("Full survey attached, photos included.")
    for filename, (content_type, content) in files.items():
        maintype, _, subtype = content_type.partition("/")
        mail.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    raw = mail.as_bytes()
    assert 19 * MB < len(raw) < 21 * MB  # far over what API Gateway and Lambda let through

    received = requests.post(
        f"http://127.0.0.1:{stack.env['MAIL_PORT']}/_fake/receive",
        params={"recipient": inbound},
        data=raw,
        timeout=120,
    )
    assert received.status_code == 200, received.text
    assert received.json()["notify_status"] == 200

    [ticket] = _until(
        lambda: requests.get(f"{api}/v1/tickets", headers=auth, timeout=10).json()["tickets"]
    )
    assert ticket["subject"] == "Survey results with photos"
    assert ticket["requester"]["email"] == "dana@surveys.test"
    detail = requests.get(f"{api}/v1/tickets/{ticket['id']}", headers=auth, timeout=10).json()
    [message] = detail["messages"]
    assert message["text"] == "Full survey attached, photos included."
    assert message["delivery_detail"] is None  # nothing was left out
    attachments = {a["filename"]: a for a in message["attachments"]}
    assert set(attachments) == set(files)
    for filename, (content_type, content) in files.items():
        link = requests.get(
            f"{api}{attachments[filename]['url']}", headers=auth, allow_redirects=False, timeout=10
        )
        assert link.status_code == 302, link.text
        downloaded = requests.get(link.headers["Location"], timeout=60).content
        assert hashlib.sha256(downloaded).hexdigest() == hashlib.sha256(content).hexdigest()
        assert (attachments[filename]["content_type"], attachments[filename]["size"]) == (
            content_type,
            len(content),
        )
