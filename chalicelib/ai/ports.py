"""What the AI teammate needs from the outside: a language model, a store for its results
and call log, the knowledge base's passages and a queue for its jobs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.ai.model import AiJob, AiResult, MonthlyUsage, ProviderCall, ResultKind
from chalicelib.errors import ProviderUnavailable


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


@dataclass(frozen=True)
class ToolResult:
    input: dict[str, Any]
    usage: Usage
    model: str
    duration_ms: int


class LlmUnavailable(ProviderUnavailable):
    """The model could not answer now; try again after `retry_after` seconds (None: the
    provider gave no hint)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MalformedOutput(Exception):
    """The model answered without the forced tool call (text only, another tool, or cut off
    at `max_tokens`).  The tokens were still spent: `usage` says how many."""

    def __init__(self, message: str, *, usage: Usage, model: str, stop_reason: str | None):
        super().__init__(message)
        self.usage = usage
        self.model = model
        self.stop_reason = stop_reason


class Llm(Protocol):
    model: str
    provider: str

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
        """One forced tool call; the system blocks are the cacheable prefix, `messages` the
        changing part.  Raises LlmUnavailable, ProviderRejected or MalformedOutput."""


@dataclass(frozen=True)
class Passage:
    """A knowledge-base passage offered to the model, numbered for citation."""

    article_id: str
    title: str
    url: str
    text: str


class KnowledgeSource(Protocol):
    def passages(
        self, workspace_id: str, query: str, locale: str | None, limit: int
    ) -> list[Passage]:
        """Best passages of published articles for `query` (one per article)."""


class AiStore(Protocol):
    def get_result(
        self, workspace_id: str, ticket_id: str, kind: ResultKind, key: str
    ) -> AiResult | None: ...

    def latest_result(
        self, workspace_id: str, ticket_id: str, kind: ResultKind
    ) -> AiResult | None: ...

    def put_result(self, result: AiResult) -> None: ...

    def record_call(self, call: ProviderCall) -> None:
        """The call in the log and in its month's usage counters."""

    def calls(
        self, workspace_id: str, limit: int, cursor: str | None
    ) -> tuple[list[ProviderCall], str | None]: ...

    def usage(self, workspace_id: str, month: str) -> list[MonthlyUsage]: ...


class JobQueue(Protocol):
    def send(self, job: AiJob) -> None: ...
