"""The stack `make run` starts, used over real HTTP as the web client and a teammate would."""

import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

PROJECT_DIR = Path(__file__).resolve().parents[2]

PASSWORD = "correct horse battery"


def _json(response, status):
    assert response.status_code == status, response.text
    return response.json()


def _wait_for_mail(stack, address, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mail in requests.get(stack.sent_mail_url, timeout=5).json():
            if address in mail["to"]:
                return mail
        time.sleep(0.2)
    raise AssertionError(f"no mail reached {address} within {timeout} s")


def test_demo_workspace_is_seeded_and_can_log_in(stack):
    body = _json(
        requests.post(
            f"{stack.api_url}/v1/auth/login",
            json={"email": "demo@helptal.test", "password": "demo-password-123"},
            timeout=10,
        ),
        200,
    )
    assert body["workspaces"][0]["name"] == "Demo Support"
    # `make run` confirmed the demo owner's address from the mail, so the demo mails customers.
    me = requests.get(
        f"{stack.api_url}/v1/me",
        headers={"Authorization": f"Bearer {body['token']}"},
        timeout=10,
    ).json()
    assert me["workspace"]["customer_mail_enabled"] is True


def test_sign_up_log_in_invite_and_accept_over_http(stack):
    api = stack.api_url
    owner_email = f"owner-{uuid.uuid4().hex[:6]}@acme.test"
    signup = _json(
        requests.post(
            f"{api}/v1/signup",
            json={
                "workspace_name": "Acme Support",
                "name": "Ann Owner",
                "email": owner_email,
                "password": PASSWORD,
            },
            timeout=10,
        ),
        201,
    )
    assert signup["workspace"]["inbound_address"].endswith("@in.helptal.test")
    login = _json(
        requests.post(
            f"{api}/v1/auth/login", json={"email": owner_email, "password": PASSWORD}, timeout=10
        ),
        200,
    )
    owner = {"Authorization": f"Bearer {login['token']}"}
    invitee = f"agent-{uuid.uuid4().hex[:6]}@acme.test"
    _json(
        requests.post(
            f"{api}/v1/members/invitations", json={"email": invitee}, headers=owner, timeout=10
        ),
        201,
    )
    # The event pump hands the queued e-mail to the mail-out worker, which sends it.
    mail = _wait_for_mail(stack, invitee)
    assert mail["subject"] == ["Ann Owner invited you to Acme Support on Helptal"]
    token = re.search(r"/join/(hti_[A-Za-z0-9_-]+)", mail["text"][0]).group(1)
    accepted = _json(
        requests.post(
            f"{api}/v1/invitations/{token}/accept",
            json={"name": "Bob Agent", "password": PASSWORD},
            timeout=10,
        ),
        200,
    )
    me = _json(
        requests.get(
            f"{api}/v1/me", headers={"Authorization": f"Bearer {accepted['token']}"}, timeout=10
        ),
        200,
    )
    assert (me["user"]["email"], me["role"]) == (invitee, "agent")
    members = _json(requests.get(f"{api}/v1/members", headers=owner, timeout=10), 200)
    assert sorted(m["email"] for m in members["members"]) == sorted([owner_email, invitee])
    reused = requests.post(
        f"{api}/v1/invitations/{token}/accept",
        json={"name": "Eve", "password": PASSWORD},
        timeout=10,
    )
    assert reused.status_code == 410
    assert reused.json()["error"]["code"] == "invitation_used"


def test_errors_and_request_ids_over_http(stack):
    response = requests.post(
        f"{stack.api_url}/v1/signup",
        data="{not json",
        headers={"Content-Type": "application/json", "X-Request-Id": "e2e-request-0001"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert response.headers["X-Request-Id"] == "e2e-request-0001"
    assert requests.get(f"{stack.api_url}/v1/openapi.json", timeout=10).json()["openapi"] == (
        "3.1.0"
    )


def _until(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def test_customer_mail_becomes_a_ticket_and_the_reply_threads_back(stack):
    from fakes.mailgun import inbound_form

    api = stack.api_url
    owner_email = f"owner-{uuid.uuid4().hex[:6]}@acme.test"
    signup = _json(
        requests.post(
            f"{api}/v1/signup",
            json={
                "workspace_name": "Mail Desk",
                "name": "Ann",
                "email": owner_email,
                "password": PASSWORD,
            },
            timeout=10,
        ),
        201,
    )
    stack.confirm_signup(owner_email)
    auth = {"Authorization": f"Bearer {signup['token']}"}
    inbound = signup["workspace"]["inbound_address"]
    customer = f"cust-{uuid.uuid4().hex[:6]}@customer.test"
    body, content_type = inbound_form(
        recipient=inbound, sender=customer, subject="Cannot log in", body_plain="Help me log in."
    )
    posted = requests.post(
        f"{api}/v1/webhooks/mailgun/inbound",
        data=body,
        headers={"Content-Type": content_type},
        timeout=10,
    )
    assert posted.status_code == 200, posted.text
    tickets = _until(
        lambda: requests.get(f"{api}/v1/tickets", headers=auth, timeout=10).json()["tickets"]
    )
    [ticket] = tickets
    assert (ticket["subject"], ticket["requester"]["email"]) == ("Cannot log in", customer)
    _json(
        requests.post(
            f"{api}/v1/tickets/{ticket['id']}/messages",
            json={"body": "Reset link sent."},
            headers=auth,
            timeout=10,
        ),
        201,
    )

    def reply_sent():
        return [
            m
            for m in requests.get(stack.sent_mail_url, timeout=5).json()
            if customer in m["to"] and m["subject"] == ["Re: Cannot log in"]
        ]

    [reply] = _until(reply_sent)
    our_id = reply["h:Message-Id"][0]
    body, content_type = inbound_form(
        recipient=inbound,
        sender=customer,
        subject="Re: Cannot log in",
        body_plain="Worked, thanks!",
        in_reply_to=our_id,
        references=our_id,
    )
    requests.post(
        f"{api}/v1/webhooks/mailgun/inbound",
        data=body,
        headers={"Content-Type": content_type},
        timeout=10,
    )

    def thread():
        detail = requests.get(f"{api}/v1/tickets/{ticket['id']}", headers=auth, timeout=10).json()
        return detail if len(detail["messages"]) == 3 else None

    detail = _until(thread)
    assert detail["messages"][-1]["text"] == "Worked, thanks!"
    assert (
        requests.get(f"{api}/v1/tickets", headers=auth, timeout=10).json()["tickets"][0]["id"]
        == ticket["id"]
    )


def test_the_demo_workspace_has_an_article_and_a_ticket(stack):
    login = _json(
        requests.post(
            f"{stack.api_url}/v1/auth/login",
            json={"email": "demo@helptal.test", "password": "demo-password-123"},
            timeout=10,
        ),
        200,
    )
    auth = {"Authorization": f"Bearer {login['token']}"}
    tickets = _json(requests.get(f"{stack.api_url}/v1/tickets", headers=auth, timeout=10), 200)
    # The seeded ticket is the workspace's first (other tests may mail the demo workspace).
    seeded = [t for t in tickets["tickets"] if t["number"] == 1]
    assert [t["subject"] for t in seeded] == ["I cannot log in"]
    page = requests.get(
        f"{stack.api_url}/hc/demo-support/fr/articles/reinitialiser-mot-de-passe", timeout=10
    )
    assert page.status_code == 200 and "Mot de passe oublié" in page.text


def test_a_scheduled_job_fires_once_on_the_running_stack_at_the_time_given(stack):
    def fire(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "devstack", "fire", *args],
            cwd=PROJECT_DIR,
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    done = fire("custom_hostnames_job", "--time", "2026-12-01T09:00:00Z")
    assert done.returncode == 0, done.stderr
    assert "custom_hostnames_job ran once" in done.stdout

    unknown = fire("no_such_job")
    assert unknown.returncode == 2
    assert "custom_hostnames_job" in unknown.stderr  # the schedules there are
    no_zone = fire("custom_hostnames_job", "--time", "2026-12-01T09:00:00")
    assert no_zone.returncode == 2 and "time zone" in no_zone.stderr
