"""Waiting chat clients of one process read their conversations' marks together: one batch
an interval for many waiters, never a mark older than the waiter's last read."""

from __future__ import annotations

import threading
import time

from chalicelib.chat.model import ChatState, LiveMark
from chalicelib.chat.shared_marks import MAX_BATCH, SharedMarkReads


class Marks:
    """Stored marks, and the batches read from them."""

    def __init__(self) -> None:
        self.versions: dict[tuple, int] = {}
        self.batches: list[list[tuple]] = []
        self.lock = threading.Lock()

    def read(self, wanted):
        with self.lock:
            self.batches.append(list(wanted))
            time.sleep(0.002)  # a call takes a moment: others wait on it
            return {
                k: LiveMark(self.versions[k], ChatState.__new__(ChatState), "open")
                if k in self.versions
                else None
                for k in wanted
            }


def test_a_lone_waiter_reads_its_own_mark_each_time():
    marks = Marks()
    marks.versions[("ws", "t1", None)] = 3
    shared = SharedMarkReads(marks.read)
    key = ("ws", "t1", None)
    shared.watch(key)
    first = shared.now()
    assert shared.read(key, first).version == 3
    marks.versions[key] = 4
    assert shared.read(key, shared.now()).version == 4  # never the older read
    shared.unwatch(key)
    assert marks.batches == [[key], [key]]


def test_many_waiters_share_batches_and_each_sees_its_own_news():
    marks = Marks()
    keys = [("ws", f"t{n}", None) for n in range(40)]
    for key in keys:
        marks.versions[key] = 1
    shared = SharedMarkReads(marks.read)
    seen: dict[tuple, int] = {}
    asked_for: list[tuple] = []

    def wait(key):
        shared.watch(key)
        last = shared.now()
        try:
            for _ in range(40):
                time.sleep(0.005)
                asked = shared.now()
                asked_for.append(key)
                mark = shared.read(key, last)
                last = asked
                if mark.version > 1:
                    seen[key] = mark.version
                    return
        finally:
            shared.unwatch(key)

    threads = [threading.Thread(target=wait, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    with marks.lock:
        for key in keys:
            marks.versions[key] = 2
    for thread in threads:
        thread.join()
    assert seen == dict.fromkeys(keys, 2)
    # Alone, each waiter would have made a call a turn.  Together far fewer.
    assert len(marks.batches) < len(asked_for) / 4
    assert max(len(batch) for batch in marks.batches) <= MAX_BATCH


def test_a_conversation_no_longer_there_reads_as_none():
    marks = Marks()
    shared = SharedMarkReads(marks.read)
    shared.watch(("ws", "gone", None))
    assert shared.read(("ws", "gone", None), shared.now()) is None
