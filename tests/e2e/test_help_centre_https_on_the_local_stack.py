"""`make run` without Cloudflare credentials: help-centre domains get their custom hostnames
at the stack's Cloudflare stand-in, and the settings follow them to active."""

import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import requests

from infra.template import PROJECT_DIR

PASSWORD = "correct horse battery"


def _stand_in(stack) -> str:
    """Where the stack's Cloudflare stand-in lists its hostnames (printed in the banner)."""
    found = re.search(r"hostnames\s+(http://\S+/_fake/custom_hostnames)", stack.log_tail(10**7))
    assert found, "the banner names no Cloudflare stand-in"
    return found.group(1)


def test_a_verified_domain_gets_a_hostname_that_turns_active(stack, fake_dns):
    api = stack.api_url
    signup = requests.post(
        f"{api}/v1/signup",
        json={
            "workspace_name": "Initech Help",
            "name": "Peter",
            "email": f"https-{uuid.uuid4().hex[:6]}@initech.test",
            "password": PASSWORD,
        },
        timeout=10,
    ).json()
    auth = {"Authorization": f"Bearer {signup['token']}"}
    domain = f"help-{uuid.uuid4().hex[:6]}.initech.test"
    settings = requests.put(
        f"{api}/v1/kb/settings", json={"custom_domain": domain}, headers=auth, timeout=10
    ).json()
    assert settings["https"]["status"] == "awaiting_verification"
    assert settings["dns_records"][0] == {
        "purpose": "routing",
        "name": domain,
        "type": "CNAME",
        "value": "customers.helptal.test",
    }
    record = settings["dns_record"]
    fake_dns.records[record["name"]] = [record["value"]]

    verified = requests.post(f"{api}/v1/kb/settings/verify-domain", headers=auth, timeout=10)
    assert verified.status_code == 200, verified.text
    assert verified.json()["https"]["status"] == "pending"
    assert domain in [h["hostname"] for h in requests.get(_stand_in(stack), timeout=5).json()]

    # The customer's CNAME is in place: Cloudflare issues the certificate.  The hostnames job
    # (every minute on the event pump; fired here at once, a few minutes on) sees it.
    activated = requests.post(f"{_stand_in(stack)}/{domain}/activate", timeout=5)
    assert activated.status_code == 200
    later = datetime.now(UTC) + timedelta(minutes=5)
    fired = subprocess.run(
        [
            sys.executable,
            "-m",
            "devstack",
            "fire",
            "custom_hostnames_job",
            "--time",
            later.isoformat(),
        ],
        cwd=PROJECT_DIR,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert fired.returncode == 0, fired.stderr
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        https = requests.get(f"{api}/v1/kb/settings", headers=auth, timeout=10).json()["https"]
        if https["status"] == "active":
            break
        time.sleep(1)
    assert https["status"] == "active", https
    assert https["certificate_status"] == "active"
