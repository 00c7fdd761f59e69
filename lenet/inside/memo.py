"""A small, thread-safe memo for serving: each input is computed once, however many requests
ask for it at the same moment.

The page asks twice about one drawing (the quick label, then the pictures) and a pen-up can
send both at once; the second request waits for the first one's result instead of running
the model again. Least recently used entries are dropped beyond ``maxsize``.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future
from typing import Callable, Generic, Hashable, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """``memo(key)`` returns ``compute(key)``, computed at most once per key while cached."""

    def __init__(self, compute: Callable[[Hashable], T], maxsize: int = 128):
        self.compute, self.maxsize = compute, maxsize
        self._entries: OrderedDict[Hashable, Future] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # how many times ``compute`` ran: for tests and logs

    def __call__(self, key: Hashable) -> T:
        with self._lock:
            future = self._entries.get(key)
            owner = future is None
            if owner:
                future = self._entries[key] = Future()
                self.computed += 1
                while len(self._entries) > self.maxsize:
                    self._entries.popitem(last=False)
            else:
                self._entries.move_to_end(key)
        if owner:
            try:
                future.set_result(self.compute(key))
            except BaseException as exc:
                with self._lock:  # a failure is not remembered: the next call tries again
                    if self._entries.get(key) is future:
                        del self._entries[key]
                future.set_exception(exc)
        return future.result()

    def __len__(self) -> int:
        return len(self._entries)
