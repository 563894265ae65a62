"""The local stand-in model (`make run AI=local`) answers the real prompts within the real
tool schemas, plausibly, and labels every answer as the stand-in's."""

import jsonschema
import pytest

from chalicelib.ai.ports import Passage
from chalicelib.ai.prompts import (
    ConversationLine,
    DraftAnswer,
    Prompt,
    SummaryAnswer,
    ToneAnswer,
    TranslationAnswer,
    TriageAnswer,
    draft_prompt,
    summary_prompt,
    tone_prompt,
    translation_prompt,
    triage_prompt,
)
from chalicelib.ai.settings import Tone
from chalicelib.providers.anthropic_llm import system_with_cache_breakpoint
from fakes.local_model import MARKER, MODEL, message

CHARGED_TWICE = [
    ConversationLine("Customer", "I was charged twice this month and I am frustrated. Refund?")
]
REFUNDS = Passage("art_1", "Refunds", "https://x.test/refunds", "Ask from the Billing page.")
PASSWORD = Passage("art_2", "Reset your password", "https://x.test/pw", "Click Forgot password.")


def _request(prompt: Prompt) -> dict:
    """The body the production adapter sends for `prompt`."""
    return {
        "model": MODEL,
        "max_tokens": prompt.max_tokens,
        "system": system_with_cache_breakpoint(prompt.system, prompt.cache_after),
        "messages": prompt.messages,
        "tools": [{"name": prompt.tool_name, "input_schema": prompt.tool_schema}],
        "tool_choice": {"type": "tool", "name": prompt.tool_name},
    }


def _tool_input(prompt: Prompt, answer_model):
    answered = message(_request(prompt))
    assert answered["model"] == MODEL
    call = answered["content"][0]
    assert (call["type"], call["name"]) == ("tool_use", prompt.tool_name)
    jsonschema.validate(call["input"], prompt.tool_schema)
    return answer_model.model_validate(call["input"])


def test_triage_picks_tags_from_the_vocabulary_and_priority_from_words():
    prompt = triage_prompt("Charged twice", CHARGED_TWICE, ["billing", "refunds", "login"])
    triage = _tool_input(prompt, TriageAnswer)
    assert triage.tags == ["refunds"]
    assert (triage.priority, triage.sentiment) == ("high", "negative")
    assert triage.summary.startswith(MARKER) and "Charged twice" in triage.summary
    assert triage.priority_reason.startswith(MARKER)


def test_triage_of_an_outage_is_urgent_and_thanks_are_low_and_positive():
    outage = triage_prompt("Site down", [ConversationLine("Customer", "Everything is down!")], [])
    assert _tool_input(outage, TriageAnswer).priority == "urgent"
    thanks = triage_prompt("Thanks", [ConversationLine("Customer", "Great app, thanks!")], [])
    answered = _tool_input(thanks, TriageAnswer)
    assert (answered.priority, answered.sentiment, answered.tags) == ("low", "positive", [])


def test_draft_quotes_the_given_articles_with_their_citations():
    prompt = draft_prompt("You write for Acme.", [REFUNDS, PASSWORD], "Refund", CHARGED_TWICE, "en")
    draft = _tool_input(prompt, DraftAnswer)
    assert draft.body.startswith(MARKER)
    assert "Ask from the Billing page. [1]" in draft.body and "[2]" in draft.body
    assert (draft.citations, draft.answered) == ([1, 2], True)


def test_draft_without_articles_hands_off_and_cites_nothing():
    draft = _tool_input(draft_prompt("", [], "Refund", CHARGED_TWICE, "fr"), DraftAnswer)
    assert (draft.citations, draft.answered) == ([], False)
    assert draft.missing and "Bonjour" in draft.body and MARKER in draft.body


@pytest.mark.parametrize(
    ("prompt", "answer_model", "field"),
    [
        (summary_prompt("Refund", CHARGED_TWICE), SummaryAnswer, "summary"),
        (translation_prompt("Bonjour, merci", "en"), TranslationAnswer, "text"),
        (tone_prompt("Acme", Tone(), ["Hi! Done. Cheers, Ann"]), ToneAnswer, "guide"),
    ],
    ids=["summary", "translation", "tone"],
)
def test_summary_translation_and_tone_are_marked_as_the_stand_in(prompt, answer_model, field):
    answered = _tool_input(prompt, answer_model)
    assert getattr(answered, field).startswith(MARKER)


def test_translation_keeps_the_original_and_says_it_is_not_translated():
    answered = _tool_input(translation_prompt("Bonjour, merci", "en"), TranslationAnswer)
    assert "not translated into English" in answered.text and "Bonjour, merci" in answered.text
