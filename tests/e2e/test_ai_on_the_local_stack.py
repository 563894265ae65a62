"""The AI teammate on the stack `make run` starts: the API server and the event pump in their
own processes, the AI-jobs queue pumped, Claude's API faked over HTTP."""

import time

import requests

DRAFT = {
    "body": "Hi Carla, you can ask for a refund from the Billing page [1].",
    "citations": [1],
    "answered": True,
    "missing": "",
}
TRIAGE = {
    "tags": [],
    "sentiment": "negative",
    "sentiment_score": 0.7,
    "priority": "high",
    "priority_reason": "Charged twice.",
    "summary": "Charged twice, wants a refund.",
}


def _until(probe, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("the stack did not finish the AI work in time")


def test_triage_and_a_grounded_draft_over_http(stack, fake_claude):
    fake_claude.tool_inputs.update({"record_triage": TRIAGE, "write_draft": DRAFT})
    api = stack.api_url
    owner = requests.post(
        f"{api}/v1/signup",
        json={
            "workspace_name": "AI Co",
            "name": "Ann",
            "email": "ann@ai-co.test",
            "password": "correct horse battery",
        },
        timeout=10,
    ).json()
    auth = {"Authorization": f"Bearer {owner['token']}"}
    article = requests.post(
        f"{api}/v1/kb/articles",
        json={
            "title": "Refunds",
            "body": "Ask for a refund from the Billing page within 30 days.",
            "status": "published",
        },
        headers=auth,
        timeout=10,
    )
    assert article.status_code == 201
    turned_on = requests.put(
        f"{api}/v1/workspace/ai", json={"enabled": True}, headers=auth, timeout=10
    )
    assert turned_on.json()["configured"] is True
    ticket = requests.post(
        f"{api}/v1/tickets",
        json={
            "requester": {"email": "carla@customer.test", "name": "Carla"},
            "subject": "Charged twice",
            "body": "I was charged twice this month, how do I get a refund?",
        },
        headers=auth,
        timeout=10,
    ).json()

    def triage():
        detail = requests.get(f"{api}/v1/tickets/{ticket['id']}", headers=auth, timeout=10)
        return (detail.json().get("ai") or {}).get("triage", {}).get("status") == "ready"

    _until(triage)

    def index_has_the_article():
        hits = requests.get(f"{api}/v1/kb/search?q=refund", headers=auth, timeout=10).json()
        return hits["hits"]

    _until(index_has_the_article)
    asked = requests.post(
        f"{api}/v1/tickets/{ticket['id']}/drafts", json={}, headers=auth, timeout=10
    )
    assert asked.status_code == 202

    def draft():
        latest = requests.get(
            f"{api}/v1/tickets/{ticket['id']}/drafts/latest", headers=auth, timeout=10
        )
        return latest.json() if latest.status_code == 200 else None

    ready = _until(draft)
    assert ready["status"] == "ready" and ready["body"] == DRAFT["body"]
    assert [c["title"] for c in ready["citations"]] == ["Refunds"]
    log = requests.get(f"{api}/v1/workspace/ai/log", headers=auth, timeout=10).json()
    assert {c["feature"] for c in log["calls"]} == {"triage", "drafts"}
