"""What the AI teammate's services are given: stores, the job queue, the ticket services,
the knowledge base and the model for each kind of result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.ai.model import (
    ResultKind,
)
from chalicelib.ai.ports import (
    AiStore,
    JobQueue,
    KnowledgeSource,
    Llm,
)
from chalicelib.ai.settings import AiSettingsStore
from chalicelib.tickets.deps import TicketDeps


@dataclass(frozen=True)
class AiDeps:
    settings: AiSettingsStore
    store: AiStore
    queue: JobQueue
    tickets: TicketDeps
    knowledge: KnowledgeSource
    # The model for a kind of result, or None when this deployment has no provider key.
    llm_for: Callable[[ResultKind], Llm | None]
