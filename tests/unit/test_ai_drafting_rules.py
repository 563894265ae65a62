"""Rules the AI teammate applies around the model: citations are checked against the
articles given, tool schemas are strict, prompts keep the stable part first, retries back
off."""

from chalicelib.ai.jobs import check_citations
from chalicelib.ai.ports import Passage
from chalicelib.ai.prompts import (
    ConversationLine,
    DraftAnswer,
    draft_prompt,
    tool_schema,
    triage_prompt,
)
from chalicelib.workers.ai_jobs import MAX_BACKOFF_SECONDS, backoff_seconds

PASSAGES = [
    Passage("A1", "Refunds", "https://hc.test/refunds", "Refunds from the Billing page."),
    Passage("A2", "Passwords", "https://hc.test/passwords", "Use the reset link."),
]


def test_citations_of_given_articles_are_kept_in_number_order():
    body, cited, removed = check_citations("Reset it [2]. Refund [1].", [2, 1], PASSAGES)
    assert body == "Reset it [2]. Refund [1]."
    assert [(c["number"], c["article_id"]) for c in cited] == [(1, "A1"), (2, "A2")]
    assert removed is False


def test_a_citation_of_an_article_not_given_is_removed_from_body_and_list():
    body, cited, removed = check_citations("Refund [1]. Premium covers it [3].", [1, 3], PASSAGES)
    assert body == "Refund [1]. Premium covers it."
    assert [c["number"] for c in cited] == [1]
    assert removed is True


def test_a_marker_in_the_body_is_listed_even_when_the_model_forgot_to():
    _, cited, removed = check_citations("See the article [2].", [], PASSAGES)
    assert [c["number"] for c in cited] == [2] and removed is False


def test_without_articles_every_citation_goes():
    body, cited, removed = check_citations("Done [1].", [1], [])
    assert (body, cited, removed) == ("Done.", [], True)


def test_tool_schemas_refuse_extra_fields():
    schema = tool_schema(DraftAnswer)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) >= {"body", "answered"}


def test_triage_tags_are_limited_to_the_vocabulary():
    prompt = triage_prompt("Subject", [ConversationLine("Customer", "Hi")], ["billing", "bug"])
    assert prompt.tool_schema["properties"]["tags"]["items"]["enum"] == ["billing", "bug"]
    empty = triage_prompt("Subject", [ConversationLine("Customer", "Hi")], [])
    assert "enum" not in empty.tool_schema["properties"]["tags"]["items"]


def test_the_draft_prompt_puts_instructions_tone_and_articles_before_the_conversation():
    prompt = draft_prompt(
        "Warm tone", PASSAGES, "Refund", [ConversationLine("Customer", "Refund me")], "fr"
    )
    assert prompt.system[1] == "Warm tone"
    assert prompt.system[2].startswith("Knowledge-base articles:")
    assert prompt.cache_after == (1,)
    assert "Refund me" in prompt.messages[0]["content"]
    assert "French" in prompt.messages[0]["content"]
    assert all("Refund me" not in block for block in prompt.system)


def test_retries_follow_the_providers_hint_or_back_off_exponentially():
    assert backoff_seconds(1, 7.0) == 7
    assert backoff_seconds(1, 0.0) == 1
    assert backoff_seconds(3, 5000.0) == MAX_BACKOFF_SECONDS
    first = [backoff_seconds(1, None) for _ in range(20)]
    fourth = [backoff_seconds(4, None) for _ in range(20)]
    assert max(first) <= 20 and min(fourth) >= 80
    assert max(backoff_seconds(12, None) for _ in range(20)) <= MAX_BACKOFF_SECONDS


def test_a_long_article_is_cut_at_a_paragraph_end():
    from chalicelib.kb.search import excerpt

    body = "First paragraph.\n\n" + "word " * 50 + "\n\nThird paragraph that goes on."
    assert excerpt(body, limit=1000) == body.strip()
    cut = excerpt(body, limit=len(body) - 5)
    assert cut.endswith(" …") and "Third" not in cut and cut.startswith("First paragraph.")
