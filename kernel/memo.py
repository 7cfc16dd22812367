"""Figures derived from the whole registry, remembered by each server process while the
registry has not changed: computed once, read by every request after. (Not the API's
answer cache, kernel/api/caching.py, which keeps rendered answers in the cache all
processes share.)

A value is remembered under its key with the registry's generation (kernel.models, read
from the database *before* the value is computed, so a write that commits meanwhile
moves the generation past the one remembered) and the day (what data-sharing clauses open changes
by date with no write), and for at most MEMO_SECONDS: a process that died between a
write's commit and the generation's move leaves that move undone
(kernel/api/caching.py). A read inside a transaction computes afresh: its own writes,
not yet committed, have moved no generation.

Each lookup costs one single-row query (the generation). What is remembered is small
(a figure per mineral) and at most MEMO_MOST keys are, the least recently read dropped
first: a key per caller and date asked of.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from kernel.models import RegistryGeneration

MEMO_SECONDS = 60
MEMO_MOST = 512

# key -> (registry generation, day, monotonic time computed, value)
_memo: OrderedDict[Hashable, tuple[int, date, float, Any]] = OrderedDict()
_lock = threading.Lock()

T = TypeVar("T")


def memoised(key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, or what it gave for `key` while the registry and the day have not
    changed since (see above)."""
    if transaction.get_connection().in_atomic_block:
        return compute()
    generation, day, now = RegistryGeneration.current(), timezone.localdate(), time.monotonic()
    with _lock:
        entry = _memo.get(key)
        if entry is not None and entry[:2] == (generation, day) and now - entry[2] < MEMO_SECONDS:
            _memo.move_to_end(key)
            return entry[3]
    value = compute()
    with _lock:
        _memo[key] = (generation, day, now, value)
        _memo.move_to_end(key)
        while len(_memo) > MEMO_MOST:
            _memo.popitem(last=False)
    return value


def forget() -> None:
    """Drop everything remembered: for a process whose database is replaced under it, as the
    tests' database is between committing tests."""
    with _lock:
        _memo.clear()
