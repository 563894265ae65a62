"""Optimistic concurrency: a read-modify-write retried while another write got in between."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from chalicelib.errors import Conflict

T = TypeVar("T")


def retry_stale(
    write: Callable[[], T],
    stale: tuple[type[Exception], ...],
    busy: Conflict,
    attempts: int,
    max_backoff: float = 0.6,
) -> T:
    """Runs `write` until no concurrent change (`stale`) got in between; `busy` after
    `attempts`.  Jittered backoff (growing up to `max_backoff` seconds): concurrent writers
    spread out."""
    for attempt in range(attempts):
        try:
            return write()
        except stale:
            time.sleep(random.uniform(0, min(max_backoff, 0.02 * (attempt + 1))))
    raise busy
