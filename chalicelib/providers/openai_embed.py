"""OpenAI embeddings (`text-embedding-3-small`), the knowledge base's dense retrieval.

The SDK is imported on first use and never retries on its own.  429, 5xx and connection
errors are retryable (`ProviderUnavailable`: the events queue retries an index rebuild, then
dead-letters it; a search falls back to words); other 4xx are not (`ProviderRejected`).
Called only for workspaces whose admin enabled AI."""

from __future__ import annotations

from typing import Any

from chalicelib.errors import ProviderRejected, ProviderUnavailable

MAX_INPUTS_PER_REQUEST = 2048
MAX_CHARS_PER_INPUT = 24_000  # well under 8,192 tokens
TIMEOUT_SECONDS = 30.0


class OpenAIEmbedder:
    def __init__(self, api_key: str, model: str, base_url: str | None = None) -> None:
        self.model = model
        self._api_key = api_key
        self._base_url = base_url or None
        self._client: Any = None
        self.tokens_used = 0  # as reported by the provider (call log and usage)

    def _openai(self) -> Any:
        if self._client is None:
            import openai

            self._client = openai.OpenAI(
                api_key=self._api_key,
                base_url=self._base_url,
                timeout=TIMEOUT_SECONDS,
                max_retries=0,  # index rebuilds retry through the queue; queries fall back to words
            )
        return self._client

    def embed(self, texts: list[str]) -> list[list[float]]:
        import openai

        vectors: list[list[float]] = []
        for start in range(0, len(texts), MAX_INPUTS_PER_REQUEST):
            batch = [
                t[:MAX_CHARS_PER_INPUT] or " "
                for t in texts[start : start + MAX_INPUTS_PER_REQUEST]
            ]
            try:
                response = self._openai().embeddings.create(model=self.model, input=batch)
            except (
                openai.RateLimitError,
                openai.InternalServerError,
                openai.APIConnectionError,
            ) as e:
                raise ProviderUnavailable(f"openai embeddings: {type(e).__name__}") from e
            except openai.APIStatusError as e:
                raise ProviderRejected(f"openai embeddings answered {e.status_code}") from e
            vectors += [list(d.embedding) for d in sorted(response.data, key=lambda d: d.index)]
            usage = getattr(response, "usage", None)
            self.tokens_used += int(getattr(usage, "total_tokens", 0) or 0)
        return vectors
