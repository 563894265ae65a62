"""Claude through the Anthropic Messages API, one forced tool call per request.

The SDK is imported on first use and never retries on its own: a retryable failure (429,
529 overloaded, 5xx, connection errors, timeouts) raises `LlmUnavailable`, a
`ProviderUnavailable` carrying the provider's `retry-after`, and the queue retries it.  A
refusal that retrying cannot fix (other 4xx, or a 429 for a reached spend limit) raises
`ProviderRejected`.  An answer without the forced tool call raises `MalformedOutput`.

The stable prefix (tool, then the system blocks: instructions, tone guide, articles) ends
with a cache breakpoint; the conversation goes in `messages`, after it."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any

from chalicelib.ai.ports import LlmUnavailable, MalformedOutput, ToolResult, Usage
from chalicelib.errors import ProviderRejected

__all__ = [
    "AnthropicLlm",
    "LlmUnavailable",
    "MalformedOutput",
    "ToolResult",
    "Usage",
    "system_with_cache_breakpoint",
]

TIMEOUT_SECONDS = 60.0
SPEND_LIMIT_REACHED = "enforced_spend_limit_reached"


def system_with_cache_breakpoint(
    system_blocks: Sequence[str], cache_after: Sequence[int] = ()
) -> list[dict[str, Any]]:
    """The system prompt as text blocks.  The last one ends the cached prefix; `cache_after`
    lists earlier blocks that end a shorter cached prefix too (e.g. one shared by every
    ticket of a workspace, before the ticket's articles).  At most 4 breakpoints."""
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text} for text in system_blocks]
    marked = sorted({i for i in cache_after if 0 <= i < len(blocks) - 1})[-3:]
    for index in [*marked, len(blocks) - 1] if blocks else []:
        blocks[index]["cache_control"] = {"type": "ephemeral"}
    return blocks


def _retry_after(headers: Mapping[str, str]) -> float | None:
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _usage(usage: Any) -> Usage:
    return Usage(
        input_tokens=int(usage.input_tokens or 0),
        output_tokens=int(usage.output_tokens or 0),
        cache_creation_input_tokens=int(getattr(usage, "cache_creation_input_tokens", 0) or 0),
        cache_read_input_tokens=int(getattr(usage, "cache_read_input_tokens", 0) or 0),
    )


class AnthropicLlm:
    provider = "anthropic"

    def __init__(
        self,
        api_key: str,
        model: str,
        base_url: str | None = None,
        *,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.model = model
        self._api_key = api_key
        self._base_url = base_url or None
        self._timeout = timeout
        self._client: Any = None

    def _anthropic(self) -> Any:
        if self._client is None:
            import anthropic

            self._client = anthropic.Anthropic(
                api_key=self._api_key,
                base_url=self._base_url,
                timeout=self._timeout,
                max_retries=0,  # retries go through the queue
            )
        return self._client

    def call_tool(
        self,
        system_blocks: Sequence[str],
        messages: Sequence[Mapping[str, Any]],
        tool_name: str,
        tool_schema: Mapping[str, Any],
        max_tokens: int,
        *,
        tool_description: str = "",
        cache_after: Sequence[int] = (),
    ) -> ToolResult:
        """Ask the model to answer by calling `tool_name` (input described by the JSON schema
        `tool_schema`) and return that call's input.  One HTTP request to the Messages API;
        raises `LlmUnavailable`, `ProviderRejected` or `MalformedOutput`."""
        import anthropic

        tool: dict[str, Any] = {"name": tool_name, "input_schema": dict(tool_schema)}
        if tool_description:
            tool["description"] = tool_description
        started = time.perf_counter()
        try:
            response = self._anthropic().messages.create(
                model=self.model,
                max_tokens=max_tokens,
                system=system_with_cache_breakpoint(system_blocks, cache_after),
                messages=[dict(message) for message in messages],
                tools=[tool],
                tool_choice={"type": "tool", "name": tool_name},
            )
        except anthropic.APIConnectionError as e:  # timeouts included
            raise LlmUnavailable(f"anthropic: {type(e).__name__}") from e
        except anthropic.APIStatusError as e:
            status = e.status_code
            if status == 429 and getattr(e, "error_code", None) == SPEND_LIMIT_REACHED:
                raise ProviderRejected("anthropic: spend limit reached") from e
            if status in (408, 429) or status >= 500:
                raise LlmUnavailable(
                    f"anthropic answered {status}", retry_after=_retry_after(e.response.headers)
                ) from e
            raise ProviderRejected(f"anthropic answered {status}") from e
        duration_ms = round((time.perf_counter() - started) * 1000)
        usage = _usage(response.usage)
        calls = [
            block
            for block in response.content
            if block.type == "tool_use" and block.name == tool_name
        ]
        if (
            not calls
            or response.stop_reason == "max_tokens"
            or not isinstance(calls[0].input, dict)
        ):
            raise MalformedOutput(
                f"anthropic answered without a complete {tool_name} call",
                usage=usage,
                model=response.model,
                stop_reason=response.stop_reason,
            )
        return ToolResult(
            input=dict(calls[0].input), usage=usage, model=response.model, duration_ms=duration_ms
        )
