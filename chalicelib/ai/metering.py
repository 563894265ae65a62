"""Every call to an AI provider is logged (without content) and counted per month: the record
of one call, and a wrapper that records the knowledge base's embedding calls too."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from chalicelib.accounts.model import Principal
from chalicelib.ai.model import CallOutcome, MonthlyUsage, ProviderCall
from chalicelib.ai.ports import AiStore, Usage
from chalicelib.errors import ProviderRejected, ProviderUnavailable
from chalicelib.ids import new_id
from chalicelib.kb.embedder import Embedder


def provider_call(
    workspace_id: str,
    feature: str,
    provider: str,
    model: str,
    at: datetime,
    started: float,
    outcome: CallOutcome,
    usage: Usage | None = None,
) -> ProviderCall:
    """The log entry of a call made at `at` (`started`: its `time.perf_counter()`)."""
    return ProviderCall(
        id=new_id(),
        workspace_id=workspace_id,
        feature=feature,
        provider=provider,
        model=model,
        at=at,
        duration_ms=round((time.perf_counter() - started) * 1000),
        outcome=outcome,
        input_tokens=usage.input_tokens if usage else 0,
        output_tokens=usage.output_tokens if usage else 0,
        cache_read_tokens=usage.cache_read_input_tokens if usage else 0,
        cache_write_tokens=usage.cache_creation_input_tokens if usage else 0,
    )


class MeteredEmbedder:
    """An `Embedder` that records each call as feature `kb_embeddings`.  The inner embedder
    exposes `tokens_used`, the tokens the provider reported so far."""

    provider = "openai"

    def __init__(
        self,
        inner: Embedder,
        store: AiStore,
        workspace_id: str,
        now: Callable[[], datetime],
    ) -> None:
        self.model = inner.model
        self._inner = inner
        self._store = store
        self._workspace_id = workspace_id
        self._now = now

    def embed(self, texts: list[str]) -> list[list[float]]:
        at, started = self._now(), time.perf_counter()
        before = int(getattr(self._inner, "tokens_used", 0))
        outcome = CallOutcome.OK
        try:
            return self._inner.embed(texts)
        except ProviderUnavailable:
            outcome = CallOutcome.UNAVAILABLE
            raise
        except ProviderRejected:
            outcome = CallOutcome.REJECTED
            raise
        finally:
            tokens = int(getattr(self._inner, "tokens_used", 0)) - before
            self._store.record_call(
                provider_call(
                    self._workspace_id,
                    "kb_embeddings",
                    self.provider,
                    self.model,
                    at,
                    started,
                    outcome,
                    Usage(input_tokens=tokens, output_tokens=0),
                )
            )


def call_log(
    store: AiStore, principal: Principal, limit: int, cursor: str | None
) -> tuple[list[ProviderCall], str | None]:
    """The caller's workspace's provider calls (no content), newest first, one page."""
    return store.calls(principal.workspace_id, limit, cursor)


def monthly_usage(store: AiStore, principal: Principal, month: str) -> list[MonthlyUsage]:
    """The caller's workspace's calls and tokens in `month` (YYYY-MM), per feature."""
    return store.usage(principal.workspace_id, month)
