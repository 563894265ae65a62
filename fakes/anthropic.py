"""A fake Anthropic Messages API (`POST /v1/messages`) for pytest-httpserver.

It records every request and answers from a script: a forced tool call (the default), a
text-only answer, or an error (429 with `retry-after`, 529 `overloaded_error`, 500, a spend-
limit 429). Usage counts a token per four characters and simulates prompt caching: each
prefix ending at a `cache_control` breakpoint (tools, then system) is written on first sight
and read afterwards; a prefix under `min_cacheable_tokens` is not cached (the 5-minute
lifetime is not modelled)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

Answer = Callable[[dict[str, Any]], Response]


def _tokens(value: Any) -> int:
    """About one token per four characters of English (the usual rule of thumb)."""
    return -(-len(json.dumps(value, ensure_ascii=False)) // 4)


def _error(status: int, error_type: str, message: str, **extra: Any) -> Response:
    error: dict[str, Any] = {"type": error_type, "message": message}
    if extra.get("error_code"):
        error["details"] = {"error_code": extra["error_code"]}
    headers = {"request-id": "req_fake"}
    if extra.get("retry_after") is not None:
        headers["retry-after"] = str(extra["retry_after"])
    return Response(
        json.dumps({"type": "error", "error": error, "request_id": "req_fake"}),
        status=status,
        headers=headers,
        content_type="application/json",
    )


class FakeAnthropic:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[Answer] = []
        self.tool_input: dict[str, Any] = {}
        # Default answer per tool name (the forced tool), when nothing is scripted.
        self.tool_inputs: dict[str, dict[str, Any]] = {}
        self._cached_prefixes: set[str] = set()
        # The provider silently caches nothing below a model-dependent floor (1,024 tokens
        # for Sonnet 4.6 by Anthropic's documentation; some report 2,048); 0 turns it off.
        self.min_cacheable_tokens = 0

    # --- scripting: each call queues one answer; with nothing queued, the tool is called ---

    def answer_with_tool(self, tool_input: dict[str, Any]) -> None:
        self.script.append(lambda body: self._message(body, self._tool_use(body, tool_input)))

    def answer_with_text(self, text: str) -> None:
        self.script.append(
            lambda body: self._message(body, [{"type": "text", "text": text}], "end_turn")
        )

    def rate_limit(self, retry_after: int | None = 7) -> None:
        self.script.append(
            lambda body: _error(429, "rate_limit_error", "rate limited", retry_after=retry_after)
        )

    def spend_limit_reached(self) -> None:
        self.script.append(
            lambda body: _error(
                429,
                "rate_limit_error",
                "spend limit reached",
                error_code="enforced_spend_limit_reached",
            )
        )

    def overloaded(self, retry_after: int | None = None) -> None:
        self.script.append(
            lambda body: _error(529, "overloaded_error", "Overloaded", retry_after=retry_after)
        )

    def fail(self, status: int = 500, error_type: str = "api_error") -> None:
        self.script.append(lambda body: _error(status, error_type, "failure"))

    # --- the endpoint ---

    def handle(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        self.requests.append(
            {
                "body": body,
                # the SDK sends the key as `x-api-key` or, in recent releases, as a bearer token
                "api_key": request.headers.get("x-api-key")
                or request.headers.get("authorization", "").removeprefix("Bearer "),
                "version": request.headers.get("anthropic-version"),
            }
        )
        if self.script:
            return self.script.pop(0)(body)
        tool = (body.get("tool_choice") or {}).get("name", "")
        return self._message(
            body, self._tool_use(body, self.tool_inputs.get(tool, self.tool_input))
        )

    def _tool_use(self, body: dict[str, Any], tool_input: dict[str, Any]) -> list[dict[str, Any]]:
        name = (body.get("tool_choice") or {}).get("name") or body["tools"][0]["name"]
        return [
            {
                "type": "tool_use",
                "id": f"toolu_{len(self.requests):04d}",
                "name": name,
                "input": tool_input,
            }
        ]

    def _message(
        self, body: dict[str, Any], content: list[dict[str, Any]], stop_reason: str = "tool_use"
    ) -> Response:
        return Response(
            json.dumps(
                {
                    "id": f"msg_{len(self.requests):04d}",
                    "type": "message",
                    "role": "assistant",
                    "model": body["model"],
                    "content": content,
                    "stop_reason": stop_reason,
                    "stop_sequence": None,
                    "usage": self._usage(body, content),
                }
            ),
            content_type="application/json",
        )

    def _usage(self, body: dict[str, Any], content: list[dict[str, Any]]) -> dict[str, Any]:
        """Like the real API: the longest prefix ending at a breakpoint that was seen before
        is read from the cache; the rest, up to the last breakpoint, is written."""
        system = body.get("system") or []
        blocks = [*body.get("tools", []), *(system if isinstance(system, list) else [system])]
        breakpoints = [
            i + 1
            for i, b in enumerate(blocks)
            if isinstance(b, dict)
            and b.get("cache_control")
            and sum(_tokens(block) for block in blocks[: i + 1]) >= self.min_cacheable_tokens
        ]
        total = sum(_tokens(block) for block in blocks) + _tokens(body["messages"])
        read_until = 0
        for end in reversed(breakpoints):
            if json.dumps(blocks[:end], sort_keys=True) in self._cached_prefixes:
                read_until = end
                break
        last = breakpoints[-1] if breakpoints else 0
        read = sum(_tokens(block) for block in blocks[:read_until])
        written = sum(_tokens(block) for block in blocks[read_until:last])
        for end in breakpoints:
            self._cached_prefixes.add(json.dumps(blocks[:end], sort_keys=True))
        return {
            "input_tokens": total - written - read,
            "output_tokens": _tokens(content),
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": written,
                "ephemeral_1h_input_tokens": 0,
            },
        }

    @property
    def last_body(self) -> dict[str, Any]:
        return self.requests[-1]["body"]

    def bodies_for(self, tool: str) -> list[dict[str, Any]]:
        """The requests that forced `tool`, oldest first."""
        return [
            r["body"]
            for r in self.requests
            if (r["body"].get("tool_choice") or {}).get("name") == tool
        ]

    def reset(self) -> None:
        self.requests.clear()
        self.script.clear()
        self.tool_input = {}
        self.tool_inputs = {}
        self._cached_prefixes.clear()
        self.min_cacheable_tokens = 0
