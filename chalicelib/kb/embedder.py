"""The Embedder port: turns texts into vectors for dense retrieval.

Adapters (OpenAI `text-embedding-3-small` in production, a local model in the bench, a
deterministic fake in tests) implement it; the search engine only sees this protocol.
"""

from __future__ import annotations

from typing import Protocol


class Embedder(Protocol):
    """Embeds texts; `model` names the model so an index built with one is never queried
    with vectors of another."""

    model: str

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order; all of the same length. May call a remote API."""
        ...
