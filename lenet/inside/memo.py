"""A small, thread-safe memo for serving: each input is computed once, however many requests
ask for it at the same moment.

The page asks twice about one drawing (the quick label, then the pictures) and a pen-up can
send both at once; the second request waits for the first one's result instead of running
the model again. Least recently used entries are dropped beyond ``maxsize``.

Entries are kept under a digest of their input (``digest``), not the input itself: a memo of
PNG bytes would otherwise hold every drawing it was sent for as long as the entry lives.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable, Generic, Hashable, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Digest:
    """Bytes as a memo keeps them (never equal to a path or any other key)."""
    sha256: str


def digest(key: Hashable) -> Hashable:
    """What a memo keeps for ``key``: bytes by their SHA-256, tuples part by part, the rest
    (paths, numbers, None) as they are."""
    if isinstance(key, (bytes, bytearray, memoryview)):
        return Digest(hashlib.sha256(key).hexdigest())
    if isinstance(key, tuple):
        return tuple(digest(part) for part in key)
    return key


class SingleFlight(Generic[T]):
    """``memo(key)`` returns ``compute(key)``, computed at most once per key while cached
    (keys are compared by their ``digest``)."""

    def __init__(self, compute: Callable[[Hashable], T], maxsize: int = 128):
        self.compute, self.maxsize = compute, maxsize
        self._entries: OrderedDict[Hashable, Future] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # how many times ``compute`` ran: for tests and logs

    def __call__(self, key: Hashable) -> T:
        kept = digest(key)
        with self._lock:
            future = self._entries.get(kept)
            owner = future is None
            if owner:
                future = self._entries[kept] = Future()
                self.computed += 1
                while len(self._entries) > self.maxsize:
                    self._entries.popitem(last=False)
            else:
                self._entries.move_to_end(kept)
        if owner:
            try:
                future.set_result(self.compute(key))
            except BaseException as exc:
                with self._lock:  # a failure is not remembered: the next call tries again
                    if self._entries.get(kept) is future:
                        del self._entries[kept]
                future.set_exception(exc)
        return future.result()

    def __len__(self) -> int:
        return len(self._entries)
