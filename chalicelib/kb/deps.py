"""The ports and policy values the knowledge-base services work with (built in
bootstrap.py)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.clock import Clock
from chalicelib.kb.ports import ImageStorage, KnowledgeBaseStore
from chalicelib.tickets.deps import EventPublisher


@dataclass(frozen=True)
class KbPolicy:
    public_base_url: str  # where article images are served from (`/v1/kb/images/...`)
    max_image_bytes: int = 5 * 1024 * 1024
    upload_expires_seconds: int = 300
    image_link_seconds: int = 3600
    max_body_chars: int = 30_000  # article and version items each hold Markdown and HTML


@dataclass(frozen=True)
class KbDeps:
    store: KnowledgeBaseStore
    clock: Clock
    events: EventPublisher
    images: ImageStorage
    policy: KbPolicy
