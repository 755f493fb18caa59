"""Group commit: work that arrives within a few milliseconds shares one transaction.

The first caller of an idle batcher leads: it sleeps the flush window, takes everything
pending and runs `flush(items)` once, in one transaction; each caller then returns its own
result, so an ack goes out only after the commit that made its row durable. Callers that
arrive while a batch commits wait for the next batch, which the first of them leads: under
load batches grow by themselves, and one batcher has at most one batch in flight (one
database connection). A flush that raises fails every member of its batch alike (`failed`),
never only some, and never reports a success.

Waiting uses engineio's event and Socket.IO's sleep, so the same code runs on gevent
greenlets in production and on threads in the tests. The lock is only held for a few list
operations, never across a wait.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ..extensions import socketio

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

WAIT_LIMIT_SECONDS = 10.0


class _Entry(Generic[T, R]):
    __slots__ = ("event", "item", "lead", "result")

    def __init__(self, item: T) -> None:
        self.item = item
        self.event: Any = socketio.server.eio.create_event()
        self.result: R | None = None
        self.lead = False


class Batcher(Generic[T, R]):
    """`submit(item)` blocks its caller until the batch holding `item` is flushed.

    `flush(items)` returns one result per item, in order; `failed(error)` is the result every
    member gets when the flush raises (or when waiting for it exceeds `wait_limit`)."""

    def __init__(
        self,
        flush: Callable[[list[T]], list[R]],
        failed: Callable[[BaseException | None], R],
        window_seconds: float,
        wait_limit: float = WAIT_LIMIT_SECONDS,
    ) -> None:
        self._flush_items, self._failed = flush, failed
        self.window, self.wait_limit = window_seconds, wait_limit
        self._lock = threading.Lock()
        self._pending: list[_Entry[T, R]] = []
        self._busy = False
        self.batches = 0  # flushed so far: tests and benchmarks read it

    def submit(self, item: T) -> R:
        entry: _Entry[T, R] = _Entry(item)
        with self._lock:
            self._pending.append(entry)
            lead, self._busy = not self._busy, True
        if lead:
            socketio.sleep(self.window)
        elif not entry.event.wait(self.wait_limit) and not self._may_lead(entry):
            return self._failed(None)  # its batch may still commit: a retry gets the row
        if entry.result is None:  # leading: this batch, or the one that gathered meanwhile
            self._flush()
        assert entry.result is not None
        return entry.result

    def _may_lead(self, entry: _Entry[T, R]) -> bool:
        """After a wait that timed out: leave the queue, unless the lead was just handed over."""
        with self._lock:
            if entry in self._pending and not entry.lead:
                self._pending.remove(entry)
            return entry.lead and entry.result is None

    def _flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        try:
            results = self._flush_items([e.item for e in batch])
            if len(results) != len(batch):
                raise RuntimeError("a flush must return one result per item")
        except Exception as err:  # the whole batch failed: nobody gets an ok
            log.warning("a batch of %d failed: %s", len(batch), err.__class__.__name__)
            results = [self._failed(err)] * len(batch)
        self.batches += 1
        for entry, result in zip(batch, results, strict=False):
            entry.result = result
            entry.event.set()
        with self._lock:
            if self._pending:  # arrived during the commit: the first of them leads the next
                self._pending[0].lead = True
                self._pending[0].event.set()
            else:
                self._busy = False
