"""Waiting clients of one process share their mark reads.

A long poll reads its conversation's mark every `poll_interval_seconds`.  Where one process
serves many waiting clients at once (the local API's threads; any threaded server), each
reading alone makes one call per client and interval.  Here the waiter whose turn comes
reads the marks of every conversation waited on in the process in one batch, and the
others take theirs from it: one call per interval for up to `MAX_BATCH` conversations.  A
process serving one request at a time (a Lambda function) reads its own mark alone, as
before: the calls a poll makes are the same."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.chat.model import LiveMark

# The mark of (workspace, ticket, the ticket whose live state is read: None = itself).
MarkKey = tuple[str, str, str | None]
ReadMarks = Callable[[list[MarkKey]], dict[MarkKey, LiveMark | None]]

MAX_BATCH = 50  # two items a mark: one BatchGetItem holds 100 keys


@dataclass
class _Read:
    mark: LiveMark | None
    at: float


class SharedMarkReads:
    def __init__(self, read_marks: ReadMarks, clock: Callable[[], float] = time.monotonic):
        self._read_marks = read_marks
        self._clock = clock
        self._lock = threading.Condition()
        self._waiting: dict[MarkKey, int] = {}  # conversations waited on, and by how many
        self._fresh: dict[MarkKey, _Read] = {}
        self._reading = False

    def watch(self, key: MarkKey) -> None:
        """A client starts waiting on `key` (pair with `unwatch`)."""
        with self._lock:
            self._waiting[key] = self._waiting.get(key, 0) + 1

    def unwatch(self, key: MarkKey) -> None:
        with self._lock:
            left = self._waiting.get(key, 1) - 1
            if left > 0:
                self._waiting[key] = left
            else:
                self._waiting.pop(key, None)
                self._fresh.pop(key, None)

    def read(self, key: MarkKey, not_before: float) -> LiveMark | None:
        """`key`'s mark as read at `not_before` or later (`now()` when the caller last
        read): from a batch another waiter made since, or from one this call makes with
        the other watched conversations, those read longest ago first."""
        with self._lock:
            while True:
                found = self._fresh.get(key)
                if found is not None and found.at >= not_before:
                    return found.mark
                if not self._reading:
                    break
                self._lock.wait()
            self._reading = True
            at = self._clock()
            others = sorted(
                (k for k in self._waiting if k != key),
                key=lambda k: self._fresh[k].at if k in self._fresh else float("-inf"),
            )
            batch = [key, *others[: MAX_BATCH - 1]]
        try:
            marks = self._read_marks(batch)
        finally:
            with self._lock:
                self._reading = False
                self._lock.notify_all()
        with self._lock:
            for k in batch:
                if k in self._waiting or k == key:
                    self._fresh[k] = _Read(marks.get(k), at)
            if key not in self._waiting:
                self._fresh.pop(key, None)
        return marks.get(key)

    def now(self) -> float:
        """The clock `read`'s `not_before` is read on."""
        return self._clock()
