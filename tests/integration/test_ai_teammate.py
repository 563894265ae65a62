"""The AI teammate through the API, the events and AI-jobs workers and the real Anthropic SDK
against a local fake Messages API: triage, drafts with checked citations, rewrites, tone,
summaries, translations, redaction, retries through the queue, the call log and usage."""

import json

import pytest

from app import app
from chalicelib import bootstrap
from chalicelib.settings import reload_settings
from devstack.pump import EventPump
from fakes.anthropic import FakeAnthropic
from tests.integration.conftest import accept_invitation, drain_mail_queue, invite

CARD = "4111 1111 1111 1111"
TRIAGE = {
    "tags": ["billing", "refunds"],
    "sentiment": "negative",
    "sentiment_score": 0.8,
    "priority": "high",
    "priority_reason": "The customer was charged twice.",
    "summary": "Charged twice for the November invoice.",
}
DRAFT = {
    "body": "Bonjour Carla, vous pouvez demander un remboursement [1].",
    "citations": [1],
    "answered": True,
    "missing": "",
}


@pytest.fixture()
def claude(httpserver, monkeypatch):
    fake = FakeAnthropic()
    httpserver.expect_request("/v1/messages", method="POST").respond_with_handler(fake.handle)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", httpserver.url_for("/").rstrip("/"))
    reload_settings()
    bootstrap.reset()
    fake.tool_inputs = {
        "record_triage": dict(TRIAGE),
        "write_draft": dict(DRAFT),
        "write_summary": {"summary": "Carla was charged twice.", "next_step": "Refund one."},
        "write_translation": {"text": "I was charged twice, please refund me."},
        "write_style_guide": {"guide": "- Greet by first name.\n- Sign off 'Cheers, Acme'."},
    }
    yield fake
    monkeypatch.undo()
    reload_settings()
    bootstrap.reset()


@pytest.fixture()
def pump(clean_aws):
    return EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)


def run_workers(pump):
    """Events (search index, triage queueing, KB index), then AI jobs, until both are idle."""
    pump.drain(["search_indexer", "ai_jobs_worker"])


@pytest.fixture()
def owner(api, claude, pump):
    owner = api.sign_up()
    drain_mail_queue()
    for title, body, locale in [
        ("Refunds", "Ask for a refund from the Billing page within 30 days of payment.", "en"),
        ("Resetting a password", "Use the forgotten password link on the login page.", "en"),
        (
            "Remboursements",
            "Demandez un remboursement depuis la page Facturation, dans les 30 jours. "
            "Une facture débitée deux fois est remboursée sous 5 jours.",
            "fr",
        ),
    ]:
        status, _, _ = api.request(
            "POST",
            "/v1/kb/articles",
            {"title": title, "body": body, "status": "published", "locale": locale},
            token=owner["token"],
        )
        assert status == 201
    # The workspace's tag vocabulary comes from tags in use.
    _open(api, owner["token"], "Old one", "old", tags=["billing", "shipping"])
    run_workers(pump)  # before AI was on: no triage
    turn_ai_on(api, owner)
    run_workers(pump)
    claude.requests.clear()
    return owner


def turn_ai_on(api, owner, **extra):
    status, body, _ = api.request(
        "PUT", "/v1/workspace/ai", {"enabled": True, **extra}, token=owner["token"]
    )
    assert status == 200, body
    return body


def _open(api, token, subject, body, **extra):
    status, ticket, _ = api.request(
        "POST",
        "/v1/tickets",
        {
            "requester": {"email": "carla@customer.test", "name": "Carla"},
            "subject": subject,
            "body": body,
            **extra,
        },
        token=token,
    )
    assert status == 201, ticket
    return ticket


FRENCH = (
    "Bonjour, j'ai été débitée deux fois pour la facture de novembre. "
    f"Ma carte {CARD} a été utilisée deux fois, pouvez-vous me rembourser ?"
)


def _ticket(api, owner, ticket_id):
    return api.request("GET", f"/v1/tickets/{ticket_id}", token=owner["token"])[1]


def test_a_new_ticket_is_triaged_with_the_workspaces_own_tags(api, owner, claude, pump):
    ticket = _open(api, owner["token"], "Débitée deux fois", FRENCH)
    run_workers(pump)
    [body] = claude.bodies_for("record_triage")
    assert body["model"] == "claude-haiku-4-5"
    tags_schema = body["tools"][0]["input_schema"]["properties"]["tags"]["items"]
    assert sorted(tags_schema["enum"]) == ["billing", "shipping"]
    triage = _ticket(api, owner, ticket["id"])["ai"]["triage"]
    assert triage["status"] == "ready"
    assert triage["language"] == "fr"  # told offline, not by the model
    assert triage["tags"] == ["billing"]  # "refunds" is not in the vocabulary
    assert "unknown_tags_dropped" in triage["flags"]
    assert (triage["sentiment"], triage["priority"]) == ("negative", "high")
    assert triage["applied"] is False
    detail = _ticket(api, owner, ticket["id"])
    assert (detail["priority"], detail["tags"]) == ("normal", [])  # suggestions only


def test_auto_apply_triage_sets_tags_and_priority(api, owner, claude, pump):
    turn_ai_on(api, owner, features={"auto_apply_triage": True})
    ticket = _open(api, owner["token"], "Débitée deux fois", FRENCH)
    run_workers(pump)
    detail = _ticket(api, owner, ticket["id"])
    assert (detail["priority"], detail["tags"]) == ("high", ["billing"])
    assert detail["ai"]["triage"]["applied"] is True
    assert {a["actor"] for a in detail["activity"] if a["action"] in ("tags", "priority")} == {
        "ai:triage"
    }


def test_a_customer_reply_is_triaged_again_but_a_note_is_not(api, owner, claude, pump):
    ticket = _open(api, owner["token"], "Login", "I cannot log in to my account at all.")
    run_workers(pump)
    api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages",
        {"kind": "note", "body": "Checking."},
        token=owner["token"],
    )
    run_workers(pump)
    assert len(claude.bodies_for("record_triage")) == 1


def test_an_invalid_answer_is_asked_again_then_recorded_as_failed(api, owner, claude, pump):
    claude.answer_with_text("I think it is billing.")
    claude.answer_with_tool({**TRIAGE, "sentiment": "furious"})
    ticket = _open(api, owner["token"], "Charged twice", "You charged me twice this month!")
    run_workers(pump)
    assert len(claude.bodies_for("record_triage")) == 2
    detail = _ticket(api, owner, ticket["id"])
    assert detail["ai"]["triage"]["status"] == "failed"
    assert detail["ai"]["triage"]["failure"] == "malformed_output"
    assert detail["status"] == "new" and len(detail["messages"]) == 1  # the ticket is intact
    log = api.request("GET", "/v1/workspace/ai/log", token=owner["token"])[1]["calls"]
    assert [c["outcome"] for c in log] == ["malformed_output", "malformed_output"]


def _draft(api, owner, ticket_id, instruction=None):
    status, body, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket_id}/drafts",
        {"instruction": instruction} if instruction else {},
        token=owner["token"],
    )
    assert status == 202, body
    assert body["status"] == "pending"
    return body


def _latest_draft(api, owner, ticket_id):
    status, body, _ = api.request(
        "GET", f"/v1/tickets/{ticket_id}/drafts/latest", token=owner["token"]
    )
    return status, body


def test_a_draft_is_grounded_in_the_knowledge_base_in_the_customers_language(
    api, owner, claude, pump
):
    turn_ai_on(api, owner, tone={"description": "Warm and brief", "sign_off": "Cheers, Acme"})
    ticket = _open(api, owner["token"], "Remboursement", FRENCH)
    run_workers(pump)
    _draft(api, owner, ticket["id"])
    assert _latest_draft(api, owner, ticket["id"])[0] == 202
    run_workers(pump)
    status, draft = _latest_draft(api, owner, ticket["id"])
    assert status == 200 and draft["status"] == "ready"
    assert draft["language"] == "fr"
    assert draft["body"] == DRAFT["body"]
    [citation] = draft["citations"]
    assert (citation["number"], citation["title"]) == (1, "Remboursements")
    assert "/remboursements" in citation["url"]
    [body] = claude.bodies_for("write_draft")
    system = body["system"]
    assert "cache_control" in system[1] and "cache_control" in system[2]  # tone, then articles
    assert "Warm and brief" in system[1]["text"] and "Cheers, Acme" in system[1]["text"]
    assert "[1] Remboursements" in system[2]["text"] and "Facturation" in system[2]["text"]
    conversation = json.dumps(body["messages"], ensure_ascii=False)
    assert "French" in conversation and "débitée deux fois" in conversation
    assert CARD not in conversation and "[card number]" in conversation


def test_a_citation_of_an_article_not_given_is_removed_and_flagged(api, owner, claude, pump):
    claude.tool_inputs["write_draft"] = {
        "body": "Use the Billing page [1]. Our premium plan covers this [7].",
        "citations": [1, 7],
        "answered": True,
    }
    ticket = _open(api, owner["token"], "Refund", "How do I get a refund for my payment?")
    run_workers(pump)
    _draft(api, owner, ticket["id"])
    run_workers(pump)
    draft = _latest_draft(api, owner, ticket["id"])[1]
    assert draft["body"] == "Use the Billing page [1]. Our premium plan covers this."
    assert [c["number"] for c in draft["citations"]] == [1]
    assert "citation_removed" in draft["flags"]


def test_when_the_articles_do_not_answer_the_draft_suggests_a_handoff(api, owner, claude, pump):
    claude.tool_inputs["write_draft"] = {
        "body": "Thanks for asking. I have passed this to a colleague who will follow up.",
        "citations": [],
        "answered": False,
        "missing": "Nothing covers data-centre locations.",
    }
    ticket = _open(api, owner["token"], "Where is my data?", "Which data centre hosts my data?")
    run_workers(pump)
    _draft(api, owner, ticket["id"])
    run_workers(pump)
    draft = _latest_draft(api, owner, ticket["id"])[1]
    assert draft["answered"] is False and "needs_handoff" in draft["flags"]
    assert draft["missing"] == "Nothing covers data-centre locations."
    assert draft["citations"] == []


def test_an_instruction_rewrites_the_latest_draft_and_reuses_the_cached_prefix(
    api, owner, claude, pump
):
    ticket = _open(api, owner["token"], "Refund", "How do I get a refund for my payment?")
    run_workers(pump)
    _draft(api, owner, ticket["id"])
    run_workers(pump)
    claude.tool_inputs["write_draft"] = {
        "body": "Refunds: Billing page [1].",
        "citations": [1],
        "answered": True,
    }
    second = _draft(api, owner, ticket["id"], "shorter")
    run_workers(pump)
    draft = _latest_draft(api, owner, ticket["id"])[1]
    assert draft["id"] == second["id"] and draft["instruction"] == "shorter"
    assert draft["body"] == "Refunds: Billing page [1]."
    first_body, second_body = claude.bodies_for("write_draft")
    asked = second_body["messages"][0]["content"]
    assert "shorter" in asked and DRAFT["body"] in asked  # the previous draft is rewritten
    assert first_body["system"] == second_body["system"]
    log = api.request("GET", "/v1/workspace/ai/log", token=owner["token"])[1]["calls"]
    latest = log[0]
    assert latest["feature"] == "drafts" and latest["cache_read_tokens"] > 0
    assert latest["cache_write_tokens"] == 0


def test_emails_and_phones_are_redacted_when_the_workspace_asks(api, owner, claude, pump):
    turn_ai_on(api, owner, redaction={"emails": True, "phones": True})
    ticket = _open(
        api,
        owner["token"],
        "Call me",
        f"Please call +33 6 12 34 56 78 or write to carla.home@example.org. Card {CARD}.",
    )
    run_workers(pump)
    sent = json.dumps(claude.bodies_for("record_triage")[0]["messages"])
    assert "carla.home@example.org" not in sent and "+33 6 12 34 56 78" not in sent
    assert "[e-mail]" in sent and "[phone]" in sent and "[card number]" in sent
    settings = api.request("GET", "/v1/workspace/ai", token=owner["token"])[1]
    assert settings["redaction"] == {"emails": True, "phones": True}
    assert ticket
    changed = turn_ai_on(api, owner, redaction={"phones": False})  # only the switch named
    assert changed["redaction"] == {"emails": True, "phones": False}
    assert changed["changes"][0]["changed"] == ["redaction"]


def test_a_rate_limit_is_retried_through_the_queue_then_succeeds(api, owner, claude, pump):
    ticket = _open(api, owner["token"], "Refund", "How do I get a refund for my payment?")
    run_workers(pump)
    claude.rate_limit(retry_after=1)
    _draft(api, owner, ticket["id"])
    [subscription] = [q for q in pump.queues if q.name == "ai_jobs_worker"]
    first = pump.poll_queue(subscription)
    assert first.failed == 1
    assert _latest_draft(api, owner, ticket["id"])[1]["status"] == "pending"
    run_workers(pump)
    assert _latest_draft(api, owner, ticket["id"])[1]["status"] == "ready"
    outcomes = [
        c["outcome"]
        for c in api.request("GET", "/v1/workspace/ai/log", token=owner["token"])[1]["calls"]
    ]
    assert outcomes[:2] == ["ok", "provider_unavailable"]


def test_an_overloaded_provider_fails_the_draft_on_the_last_attempt_and_dead_letters_the_job(
    api, owner, claude, pump, clean_aws
):
    ticket = _open(api, owner["token"], "Refund", "How do I get a refund for my payment?")
    run_workers(pump)
    for _ in range(5):
        claude.overloaded()
    _draft(api, owner, ticket["id"])
    [subscription] = [q for q in pump.queues if q.name == "ai_jobs_worker"]
    for attempt in range(1, 6):
        outcome = pump.poll_queue(subscription)
        assert (outcome.received, outcome.failed) == (1, 1), attempt
    draft = _latest_draft(api, owner, ticket["id"])[1]
    assert (draft["status"], draft["failure"]) == ("failed", "provider_unavailable")
    assert draft["body"] is None  # never a made-up result
    assert pump.poll_queue(subscription).received == 0
    sqs = clean_aws.client("sqs")
    dead = sqs.receive_message(QueueUrl=clean_aws.dlq_urls["ai_jobs"], MaxNumberOfMessages=10)
    assert len(dead.get("Messages", [])) == 1


def test_the_summary_is_cached_until_a_new_message_arrives(api, owner, claude, pump):
    ticket = _open(api, owner["token"], "Refund", "How do I get a refund for my payment?")
    run_workers(pump)
    status, summary, _ = api.request(
        "GET", f"/v1/tickets/{ticket['id']}/summary", token=owner["token"]
    )
    assert (status, summary["status"]) == (202, "pending")
    run_workers(pump)
    status, summary, _ = api.request(
        "GET", f"/v1/tickets/{ticket['id']}/summary", token=owner["token"]
    )
    assert (status, summary["summary"], summary["message_count"]) == (
        200,
        "Carla was charged twice.",
        1,
    )
    api.request("GET", f"/v1/tickets/{ticket['id']}/summary", token=owner["token"])
    assert len(claude.bodies_for("write_summary")) == 1
    api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages",
        {"kind": "reply", "body": "Looking into it."},
        token=owner["token"],
    )
    status, summary, _ = api.request(
        "GET", f"/v1/tickets/{ticket['id']}/summary", token=owner["token"]
    )
    assert (status, summary["message_count"]) == (202, 2)
    run_workers(pump)
    assert len(claude.bodies_for("write_summary")) == 2


def test_a_message_is_translated_for_the_agent_once_per_language(api, owner, claude, pump):
    ticket = _open(api, owner["token"], "Remboursement", FRENCH)
    run_workers(pump)
    message_id = _ticket(api, owner, ticket["id"])["messages"][0]["id"]
    path = f"/v1/tickets/{ticket['id']}/messages/{message_id}/translate"
    status, body, _ = api.request("POST", path, {"to": "en"}, token=owner["token"])
    assert (status, body["status"]) == (202, "pending")
    run_workers(pump)
    status, body, _ = api.request("POST", path, {"to": "en"}, token=owner["token"])
    assert status == 200
    assert (body["text"], body["source_language"], body["to"]) == (
        "I was charged twice, please refund me.",
        "fr",
        "en",
    )
    assert len(claude.bodies_for("write_translation")) == 1
    sent = json.dumps(claude.bodies_for("write_translation")[0], ensure_ascii=False)
    assert CARD not in sent and "English" in sent
    status, body, _ = api.request("POST", path, {"to": "xx"}, token=owner["token"])
    assert status == 422
    status, body, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages/01AAAAAAAAAAAAAAAAAAAAAAAA/translate",
        {"to": "en"},
        token=owner["token"],
    )
    assert status == 404


def test_a_reply_is_sent_translated_with_the_original_kept(api, owner, claude, pump):
    claude.tool_inputs["write_translation"] = {"text": "Nous vous remboursons aujourd'hui."}
    ticket = _open(api, owner["token"], "Remboursement", FRENCH)
    run_workers(pump)
    status, pending, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/reply-translations",
        {"text": "We are refunding you today."},
        token=owner["token"],
    )
    assert (status, pending["to"]) == (202, "fr")  # the customer's language
    run_workers(pump)
    ready = api.request(
        "GET",
        f"/v1/tickets/{ticket['id']}/reply-translations/{pending['id']}",
        token=owner["token"],
    )[1]
    assert ready["text"] == "Nous vous remboursons aujourd'hui."
    drain_mail_queue()
    status, message, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages",
        {"body": ready["text"], "translation_id": pending["id"]},
        token=owner["token"],
    )
    assert status == 201, message
    assert message["text"] == "Nous vous remboursons aujourd'hui."
    assert message["original"] == {"text": "We are refunding you today.", "language": "en"}
    [mail] = drain_mail_queue()
    assert "We are refunding you today" not in mail["Body"]  # the customer gets the French
    assert "Nous vous remboursons" in mail["Body"]


def test_the_teams_tone_is_learned_from_its_replies_and_used_by_drafts(api, owner, claude, pump):
    ticket = _open(api, owner["token"], "Refund", "How do I get a refund for my payment?")
    api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages",
        {"body": "Hi Carla! Sure thing, head to Billing. Cheers, Acme"},
        token=owner["token"],
    )
    status, guide, _ = api.request(
        "POST", "/v1/workspace/ai/tone/learn", {"sample_size": 10}, token=owner["token"]
    )
    assert (status, guide["status"]) == (202, "pending")
    run_workers(pump)
    guide = api.request("GET", "/v1/workspace/ai/tone", token=owner["token"])[1]
    assert guide["status"] == "ready" and guide["learned_from"] == 1
    assert "Greet by first name" in guide["guide"]
    [learn] = claude.bodies_for("write_style_guide")
    assert "Sure thing, head to Billing" in learn["messages"][0]["content"]
    _draft(api, owner, ticket["id"])
    run_workers(pump)
    assert "Greet by first name" in claude.bodies_for("write_draft")[0]["system"][1]["text"]


def test_only_owners_and_admins_teach_the_tone_and_read_the_log(api, owner, claude):
    agent = accept_invitation(api, invite(api, owner["token"], "bob@acme.test"))[1]
    for method, path, body in [
        ("POST", "/v1/workspace/ai/tone/learn", {}),
        ("GET", "/v1/workspace/ai/log", None),
        ("GET", "/v1/workspace/ai/usage", None),
    ]:
        assert api.request(method, path, body, token=agent["token"])[0] == 403, path


def test_the_call_log_and_monthly_usage_show_every_call_without_content(api, owner, claude, pump):
    ticket = _open(api, owner["token"], "Remboursement", FRENCH)
    run_workers(pump)
    _draft(api, owner, ticket["id"])
    run_workers(pump)
    log = api.request("GET", "/v1/workspace/ai/log?limit=1", token=owner["token"])[1]
    assert len(log["calls"]) == 1 and log["next_cursor"]
    rest = api.request(
        "GET", f"/v1/workspace/ai/log?cursor={log['next_cursor']}", token=owner["token"]
    )[1]
    calls = log["calls"] + rest["calls"]
    assert [(c["feature"], c["provider"], c["outcome"]) for c in calls] == [
        ("drafts", "anthropic", "ok"),
        ("triage", "anthropic", "ok"),
    ]
    assert calls[0]["model"] == "claude-sonnet-4-6" and calls[1]["model"] == "claude-haiku-4-5"
    assert all(c["input_tokens"] + c["cache_write_tokens"] > 0 for c in calls)
    assert "débitée" not in json.dumps(calls) and "Carla" not in json.dumps(calls)
    usage = api.request("GET", "/v1/workspace/ai/usage", token=owner["token"])[1]
    assert sorted((r["feature"], r["calls"]) for r in usage["features"]) == [
        ("drafts", 1),
        ("triage", 1),
    ]
    assert usage["total_calls"] == 2
    assert (
        api.request("GET", "/v1/workspace/ai/usage?month=2026-13", token=owner["token"])[0] == 422
    )
    assert api.request("GET", "/v1/workspace/ai/log?cursor=bogus", token=owner["token"])[0] == 400


def test_turning_ai_off_after_asking_fails_the_job_without_sending(api, owner, claude, pump):
    ticket = _open(api, owner["token"], "Refund", "How do I get a refund for my payment?")
    run_workers(pump)
    asked = len(claude.requests)
    _draft(api, owner, ticket["id"])
    api.request("PUT", "/v1/workspace/ai", {"enabled": False}, token=owner["token"])
    run_workers(pump)
    assert len(claude.requests) == asked
    api.request("PUT", "/v1/workspace/ai", {"enabled": True}, token=owner["token"])
    draft = _latest_draft(api, owner, ticket["id"])[1]
    assert (draft["status"], draft["failure"]) == ("failed", "ai_disabled")


def test_ai_endpoints_answer_ai_disabled_while_off_and_send_nothing(api, claude, pump):
    owner = api.sign_up()
    ticket = _open(api, owner["token"], "Refund", "How do I get a refund for my payment?")
    run_workers(pump)
    message_id = _ticket(api, owner, ticket["id"])["messages"][0]["id"]
    for method, path, body in [
        ("POST", f"/v1/tickets/{ticket['id']}/drafts", {}),
        ("GET", f"/v1/tickets/{ticket['id']}/drafts/latest", None),
        ("GET", f"/v1/tickets/{ticket['id']}/summary", None),
        ("POST", f"/v1/tickets/{ticket['id']}/messages/{message_id}/translate", {"to": "fr"}),
        ("POST", f"/v1/tickets/{ticket['id']}/reply-translations", {"text": "Hi", "to": "fr"}),
        ("POST", "/v1/workspace/ai/tone/learn", {}),
    ]:
        status, answer, _ = api.request(method, path, body, token=owner["token"])
        assert (status, answer["error"]["code"]) == (409, "ai_disabled"), path
    run_workers(pump)
    assert claude.requests == []
    assert _ticket(api, owner, ticket["id"])["ai"] is None


def test_a_feature_turned_off_is_refused_on_its_own(api, owner, claude):
    turn_ai_on(api, owner, features={"drafts": False})
    ticket = _open(api, owner["token"], "Refund", "How do I get a refund?")
    status, answer, _ = api.request(
        "POST", f"/v1/tickets/{ticket['id']}/drafts", {}, token=owner["token"]
    )
    assert (status, answer["error"]["code"]) == (409, "ai_feature_disabled")


def test_without_a_provider_key_ai_endpoints_answer_ai_not_configured(api, pump, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    reload_settings()
    bootstrap.reset()
    owner = api.sign_up()
    settings = turn_ai_on(api, owner)
    assert settings["configured"] is False
    ticket = _open(api, owner["token"], "Refund", "How do I get a refund?")
    run_workers(pump)  # no triage queued, nothing fails
    status, answer, _ = api.request(
        "POST", f"/v1/tickets/{ticket['id']}/drafts", {}, token=owner["token"]
    )
    assert (status, answer["error"]["code"]) == (503, "ai_not_configured")
    assert _ticket(api, owner, ticket["id"])["ai"] is None


def test_another_workspace_cannot_reach_a_tickets_ai_results(api, owner, claude, pump):
    ticket = _open(api, owner["token"], "Refund", "How do I get a refund for my payment?")
    run_workers(pump)
    draft = _draft(api, owner, ticket["id"])
    run_workers(pump)
    other = api.sign_up(workspace="Other Co", email="olga@other.test")
    turn_ai_on(api, other)
    for method, path, body in [
        ("POST", f"/v1/tickets/{ticket['id']}/drafts", {}),
        ("GET", f"/v1/tickets/{ticket['id']}/drafts/latest", None),
        ("GET", f"/v1/tickets/{ticket['id']}/summary", None),
        ("POST", f"/v1/tickets/{ticket['id']}/reply-translations", {"text": "Hi", "to": "fr"}),
        ("GET", f"/v1/tickets/{ticket['id']}/reply-translations/{draft['id']}", None),
    ]:
        assert api.request(method, path, body, token=other["token"])[0] == 404, path
    assert api.request("GET", "/v1/workspace/ai/log", token=other["token"])[1]["calls"] == []


def test_bad_draft_requests_are_refused(api, owner, claude):
    ticket = _open(api, owner["token"], "Refund", "How do I get a refund?")
    for body in [{"instruction": "x" * 501}, {"instruction": 3}, {"other": 1}]:
        status, answer, _ = api.request(
            "POST", f"/v1/tickets/{ticket['id']}/drafts", body, token=owner["token"]
        )
        assert status == 422, body
    status, answer, _ = api.request(
        "GET", f"/v1/tickets/{ticket['id']}/drafts/latest", token=owner["token"]
    )
    assert (status, answer["error"]["code"]) == (404, "no_draft")


def test_a_forged_log_cursor_is_refused(api, owner, claude, pump):
    import base64

    from chalicelib.store import keys

    workspace_pk = keys.workspace_pk(owner["workspace"]["id"])
    forged = base64.urlsafe_b64encode(
        json.dumps({"PK": {"S": workspace_pk}, "SK": {"S": "SETTINGS#AI"}}).encode()
    ).decode()
    status, body, _ = api.request(
        "GET", f"/v1/workspace/ai/log?cursor={forged}", token=owner["token"]
    )
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")


def test_auto_applied_triage_never_undoes_what_an_agent_changed_later(api, owner, claude, pump):
    turn_ai_on(api, owner, features={"auto_apply_triage": True})
    ticket = _open(api, owner["token"], "Débitée deux fois", FRENCH)
    run_workers(pump)
    api.request(
        "PATCH",
        f"/v1/tickets/{ticket['id']}",
        {"priority": "normal", "tags": []},
        token=owner["token"],
    )
    _customer_writes_again(api, owner, ticket)
    run_workers(pump)
    detail = _ticket(api, owner, ticket["id"])
    assert len(claude.bodies_for("record_triage")) == 2  # triaged again: fresh suggestions
    assert (detail["priority"], detail["tags"]) == ("normal", [])  # but not applied again
    assert detail["ai"]["triage"]["applied"] is True


def _customer_writes_again(api, owner, ticket):
    """A customer's follow-up to the ticket's signed reply address, through the webhook."""
    from chalicelib.settings import get_settings
    from chalicelib.tickets.reply_address import reply_address
    from fakes.mailgun import inbound_form

    settings = get_settings()
    body, content_type = inbound_form(
        recipient=reply_address(
            settings.reply_address_secret,
            settings.inbound_mail_domain,
            owner["workspace"]["slug"],
            owner["workspace"]["id"],
            ticket["id"],
        ),
        sender="carla@customer.test",
        from_header="Carla <carla@customer.test>",
        subject=f"Re: {ticket['subject']}",
        body_plain="Toujours rien reçu, c'est urgent !",
    )
    response = api.client.http.post(
        "/v1/webhooks/mailgun/inbound", headers={"Content-Type": content_type}, body=body
    )
    assert response.status_code == 200
    EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0).drain(["inbound_mail_worker"])
    assert len(_ticket(api, owner, ticket["id"])["messages"]) == 2


def test_a_summary_left_pending_by_a_lost_job_is_asked_for_again(api, owner, claude, pump, clock):
    bootstrap.ai_deps.cache_clear()
    ticket = _open(api, owner["token"], "Refund", "How do I get a refund for my payment?")
    path = f"/v1/tickets/{ticket['id']}/summary"
    assert api.request("GET", path, token=owner["token"])[0] == 202
    pump.drain(["ai_jobs_worker"])  # ...pretend this job was lost: drop what was made
    from chalicelib.ai.model import ResultKind, ResultStatus

    store = bootstrap.ai_store()
    made = store.get_result(owner["workspace"]["id"], ticket["id"], ResultKind.SUMMARY, "")
    import dataclasses

    store.put_result(dataclasses.replace(made, status=ResultStatus.PENDING, payload={}))
    assert api.request("GET", path, token=owner["token"])[0] == 202  # still waiting
    asked = len(claude.bodies_for("write_summary"))
    clock.advance(minutes=31)
    assert api.request("GET", path, token=owner["token"])[0] == 202
    pump.drain(["ai_jobs_worker"])
    status, summary, _ = api.request("GET", path, token=owner["token"])
    assert (status, summary["status"]) == (200, "ready")
    assert len(claude.bodies_for("write_summary")) == asked + 1


def test_a_reply_cannot_claim_a_translation_that_is_not_ready_or_not_this_tickets(
    api, owner, claude, pump
):
    ticket = _open(api, owner["token"], "Remboursement", FRENCH)
    other = _open(api, owner["token"], "Autre", FRENCH)
    run_workers(pump)
    pending = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/reply-translations",
        {"text": "We are refunding you today."},
        token=owner["token"],
    )[1]
    for target, code, status in [
        (ticket["id"], "translation_not_ready", 409),
        (other["id"], "translation_not_found", 404),
    ]:
        answer = api.request(
            "POST",
            f"/v1/tickets/{target}/messages",
            {"body": "Nous vous remboursons.", "translation_id": pending["id"]},
            token=owner["token"],
        )
        assert (answer[0], answer[1]["error"]["code"]) == (status, code)
    assert len(_ticket(api, owner, ticket["id"])["messages"]) == 1  # nothing was sent


def test_a_rate_limited_job_waits_as_long_as_the_provider_asks(api, owner, claude, pump, clean_aws):
    from devstack.pump import lambda_context, sqs_event

    ticket = _open(api, owner["token"], "Refund", "How do I get a refund for my payment?")
    run_workers(pump)
    claude.rate_limit(retry_after=120)
    _draft(api, owner, ticket["id"])
    sqs = clean_aws.client("sqs")
    url = clean_aws.queue_urls["ai_jobs"]
    [subscription] = [q for q in pump.queues if q.name == "ai_jobs_worker"]
    # Received visible again at once, unless the handler hides it (as it must, for 120 s).
    messages = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=1,
        VisibilityTimeout=0,
        MessageSystemAttributeNames=["All"],
    )["Messages"]
    answer = subscription.handler(
        sqs_event(messages, subscription.queue_arn, clean_aws.region),
        lambda_context("ai_jobs_worker"),
    )
    assert answer["batchItemFailures"] == [{"itemIdentifier": messages[0]["MessageId"]}]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []


def test_an_article_unpublished_since_the_index_was_built_is_not_given(api, owner, claude, pump):
    articles = api.request("GET", "/v1/kb/articles", token=owner["token"])[1]["articles"]
    [french] = [a for a in articles if a["title"] == "Remboursements"]
    ticket = _open(api, owner["token"], "Remboursement", FRENCH)
    run_workers(pump)
    status, _, _ = api.request(
        "PATCH",
        f"/v1/kb/articles/{french['id']}",
        {"status": "draft"},
        token=owner["token"],
    )
    assert status == 200
    _draft(api, owner, ticket["id"])
    pump.drain(["ai_jobs_worker"])  # the index has not been rebuilt yet
    [body] = claude.bodies_for("write_draft")
    assert "Remboursements" not in body["system"][2]["text"]


def _fail_twice(claude):
    # An invalid answer is asked once more: two malformed answers fail the result.
    claude.answer_with_text("Not a summary.")
    claude.answer_with_text("Still not a summary.")


def test_a_failed_summary_stays_failed_until_asked_again_at_most_once_a_minute(
    api, owner, claude, pump, clock
):
    bootstrap.ai_deps.cache_clear()
    ticket = _open(api, owner["token"], "Refund", "How do I get a refund for my payment?")
    run_workers(pump)
    path = f"/v1/tickets/{ticket['id']}/summary"
    _fail_twice(claude)
    assert api.request("GET", path, token=owner["token"])[0] == 202
    run_workers(pump)
    asked = len(claude.bodies_for("write_summary"))
    for _ in range(2):  # a poller sees the failure, and polling asks nobody
        status, summary, _ = api.request("GET", path, token=owner["token"])
        assert (status, summary["status"], summary["failure"]) == (
            200,
            "failed",
            "malformed_output",
        )
        run_workers(pump)
    assert len(claude.bodies_for("write_summary")) == asked

    clock.advance(seconds=61)
    _fail_twice(claude)
    status, summary, _ = api.request("POST", path, token=owner["token"])
    assert (status, summary["status"]) == (202, "pending")
    run_workers(pump)
    assert len(claude.bodies_for("write_summary")) == asked * 2
    assert api.request("GET", path, token=owner["token"])[1]["status"] == "failed"

    status, body, headers = api.request("POST", path, token=owner["token"])
    assert (status, body["error"]["code"]) == (429, "ai_asked_too_often")
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert len(claude.bodies_for("write_summary")) == asked * 2

    clock.advance(seconds=61)
    assert api.request("POST", path, token=owner["token"])[0] == 202
    run_workers(pump)
    status, summary, _ = api.request("GET", path, token=owner["token"])
    assert (status, summary["status"], summary["summary"]) == (
        200,
        "ready",
        "Carla was charged twice.",
    )
    # Asking for a ready summary returns it without another call.
    assert api.request("POST", path, token=owner["token"])[1]["status"] == "ready"
    assert len(claude.bodies_for("write_summary")) == asked * 2 + 1


def test_a_failed_message_translation_is_read_as_failed_and_asked_again_once_a_minute(
    api, owner, claude, pump, clock
):
    bootstrap.ai_deps.cache_clear()
    ticket = _open(api, owner["token"], "Remboursement", FRENCH)
    run_workers(pump)
    message_id = _ticket(api, owner, ticket["id"])["messages"][0]["id"]
    ask = f"/v1/tickets/{ticket['id']}/messages/{message_id}/translate"
    read = f"/v1/tickets/{ticket['id']}/messages/{message_id}/translations/en"
    assert api.request("GET", read, token=owner["token"])[0] == 404  # not asked yet
    claude.answer_with_text("No.")
    claude.answer_with_text("No.")
    assert api.request("POST", ask, {"to": "en"}, token=owner["token"])[0] == 202
    run_workers(pump)
    for _ in range(2):
        status, body, _ = api.request("GET", read, token=owner["token"])
        assert (status, body["status"], body["failure"]) == (200, "failed", "malformed_output")
    assert len(claude.bodies_for("write_translation")) == 2

    status, body, headers = api.request("POST", ask, {"to": "en"}, token=owner["token"])
    assert (status, body["error"]["code"]) == (429, "ai_asked_too_often")
    assert int(headers["Retry-After"]) >= 1

    clock.advance(seconds=61)
    assert api.request("POST", ask, {"to": "en"}, token=owner["token"])[0] == 202
    run_workers(pump)
    status, body, _ = api.request("GET", read, token=owner["token"])
    assert (status, body["status"], body["text"]) == (
        200,
        "ready",
        "I was charged twice, please refund me.",
    )
    assert len(claude.bodies_for("write_translation")) == 3
