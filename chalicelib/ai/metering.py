"""Every call to an AI provider is logged (without content) and counted per month; this
wraps the knowledge base's embedder so that its calls are too."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from chalicelib.ai.model import CallOutcome, ProviderCall
from chalicelib.ai.ports import AiStore
from chalicelib.errors import ProviderRejected, ProviderUnavailable
from chalicelib.ids import new_id
from chalicelib.kb.embedder import Embedder


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
            self._store.record_call(
                ProviderCall(
                    id=new_id(),
                    workspace_id=self._workspace_id,
                    feature="kb_embeddings",
                    provider=self.provider,
                    model=self.model,
                    at=at,
                    duration_ms=round((time.perf_counter() - started) * 1000),
                    outcome=outcome,
                    input_tokens=int(getattr(self._inner, "tokens_used", 0)) - before,
                )
            )
