"""The Anthropic adapter through the real SDK against a local fake Messages API: the request
it sends, the usage it reads, and how each provider failure is classified for the queue."""

import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.errors import ProviderRejected, ProviderUnavailable
from chalicelib.providers.anthropic_llm import (
    AnthropicLlm,
    LlmUnavailable,
    MalformedOutput,
    ToolResult,
)
from fakes.anthropic import FakeAnthropic

ROOT = Path(__file__).resolve().parents[2]
MODEL = "claude-sonnet-4-6"
TRIAGE_TOOL = {
    "type": "object",
    "properties": {
        "sentiment": {"type": "string", "enum": ["negative", "neutral", "positive"]},
        "summary": {"type": "string"},
    },
    "required": ["sentiment", "summary"],
}
SYSTEM = [
    "You triage support tickets for Acme.",
    "Tone guide: warm, short sentences, sign off with 'The Acme team'.",
    "Articles: [1] Resetting a password: use the forgotten password link.",
]
CONVERSATION = [{"role": "user", "content": "I can't log in since yesterday, please help!"}]


@pytest.fixture()
def fake_anthropic(httpserver):
    fake = FakeAnthropic()
    httpserver.expect_request("/v1/messages", method="POST").respond_with_handler(fake.handle)
    return fake


@pytest.fixture()
def llm(httpserver):
    return AnthropicLlm("sk-ant-test", MODEL, base_url=httpserver.url_for("/").rstrip("/"))


def _triage(llm: AnthropicLlm) -> ToolResult:
    return llm.call_tool(SYSTEM, CONVERSATION, "record_triage", TRIAGE_TOOL, max_tokens=512)


def test_the_request_forces_the_tool_and_caches_the_stable_prefix(llm, fake_anthropic):
    _triage(llm)
    [request] = fake_anthropic.requests
    body = request["body"]
    assert request["api_key"] == "sk-ant-test"
    assert request["version"]  # the SDK pins the API version it was built for
    assert body["model"] == MODEL
    assert body["max_tokens"] == 512
    assert body["tools"] == [{"name": "record_triage", "input_schema": TRIAGE_TOOL}]
    assert body["tool_choice"] == {"type": "tool", "name": "record_triage"}
    assert [block["text"] for block in body["system"]] == SYSTEM
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert all("cache_control" not in block for block in body["system"][:-1])
    assert body["messages"] == CONVERSATION
    assert "cache_control" not in str(body["messages"])


def test_the_tool_input_usage_and_model_come_back(llm, fake_anthropic):
    fake_anthropic.answer_with_tool({"sentiment": "negative", "summary": "Cannot log in."})
    result = _triage(llm)
    assert result.input == {"sentiment": "negative", "summary": "Cannot log in."}
    assert result.model == MODEL
    assert result.duration_ms >= 0
    assert result.usage.output_tokens > 0
    assert result.usage.cache_creation_input_tokens > 0
    assert result.usage.cache_read_input_tokens == 0


def test_a_second_call_with_the_same_prefix_reads_it_from_the_cache(llm, fake_anthropic):
    first = _triage(llm)
    second = llm.call_tool(
        SYSTEM,
        [*CONVERSATION, {"role": "user", "content": "Still stuck."}],
        "record_triage",
        TRIAGE_TOOL,
        max_tokens=512,
    )
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens > 0
    assert second.usage.cache_creation_input_tokens == 0
    assert second.usage.input_tokens > first.usage.input_tokens


def test_rate_limit_is_retryable_later_with_the_providers_hint(llm, fake_anthropic):
    fake_anthropic.rate_limit(retry_after=7)
    with pytest.raises(ProviderUnavailable) as raised:
        _triage(llm)
    assert isinstance(raised.value, LlmUnavailable)
    assert raised.value.retry_after == 7
    assert len(fake_anthropic.requests) == 1  # the SDK does not retry by itself


def test_overloaded_is_retryable(llm, fake_anthropic):
    fake_anthropic.overloaded()
    with pytest.raises(LlmUnavailable) as raised:
        _triage(llm)
    assert raised.value.retry_after is None
    assert len(fake_anthropic.requests) == 1


def test_server_error_is_retryable(llm, fake_anthropic):
    fake_anthropic.fail(500)
    with pytest.raises(ProviderUnavailable):
        _triage(llm)


def test_a_reached_spend_limit_is_not_retried(llm, fake_anthropic):
    fake_anthropic.spend_limit_reached()
    with pytest.raises(ProviderRejected):
        _triage(llm)


def test_a_bad_request_is_not_retried(llm, fake_anthropic):
    fake_anthropic.fail(400, "invalid_request_error")
    with pytest.raises(ProviderRejected):
        _triage(llm)


def test_a_text_only_answer_is_malformed_output_with_its_usage(llm, fake_anthropic):
    fake_anthropic.answer_with_text("Sure! The customer seems upset.")
    with pytest.raises(MalformedOutput) as raised:
        _triage(llm)
    assert not isinstance(raised.value, ProviderUnavailable | ProviderRejected)
    assert raised.value.stop_reason == "end_turn"
    assert raised.value.usage.output_tokens > 0


def test_a_provider_that_cannot_be_reached_is_retryable():
    from devstack.emulator import free_port

    llm = AnthropicLlm("sk-ant-test", MODEL, base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(LlmUnavailable):
        _triage(llm)


def test_a_slow_provider_times_out_as_retryable(httpserver):
    import time

    def slow(request):
        time.sleep(1)

    httpserver.expect_request("/v1/messages", method="POST").respond_with_handler(slow)
    llm = AnthropicLlm("sk-ant-test", MODEL, base_url=httpserver.url_for("/"), timeout=0.2)
    with pytest.raises(LlmUnavailable):
        _triage(llm)


def test_building_the_adapter_does_not_import_the_sdk():
    script = (
        "import sys; from chalicelib.providers.anthropic_llm import AnthropicLlm; "
        "AnthropicLlm('sk-ant-test', 'claude'); print('anthropic' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "False"
