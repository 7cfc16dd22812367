"""Figures remembered by the process under the registry's generation (kernel/memo.py): reused
while the registry, the day and a minute hold; never inside a transaction; bounded."""

import datetime
import time
from types import SimpleNamespace

import pytest
from django.db import transaction

from kernel import memo
from kernel.memo import memoised
from kernel.models import RegistryGeneration


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.calls


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_value_is_remembered_until_the_generation_the_day_or_a_minute_moves_on(monkeypatch):
    compute = Counter()
    assert memoised("figure", compute) == 1
    assert memoised("figure", compute) == 1  # reused
    assert memoised("other figure", compute) == 2  # each key its own

    RegistryGeneration.move_on()  # a committed write
    assert memoised("figure", compute) == 3
    assert memoised("figure", compute) == 3

    # The module's own clocks moved on, not the process's.
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    monkeypatch.setattr(memo, "timezone", SimpleNamespace(localdate=lambda: tomorrow))
    assert memoised("figure", compute) == 4

    later = time.monotonic() + memo.MEMO_SECONDS + 1
    monkeypatch.setattr(memo, "time", SimpleNamespace(monotonic=lambda: later))
    assert memoised("figure", compute) == 5
    assert memoised("figure", compute) == 5

    # Inside a transaction its own writes have moved no generation: computed afresh.
    with transaction.atomic():
        assert memoised("figure", compute) == 6
    assert memoised("figure", compute) == 5


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_least_recently_read_are_dropped_past_the_bound(monkeypatch):
    monkeypatch.setattr(memo, "MEMO_MOST", 3)
    compute = Counter()
    for key in ("a", "b", "c"):
        memoised(key, compute)
    memoised("a", compute)  # read again: "b" is now the least recently read
    memoised("d", compute)
    assert set(memo._memo) == {"a", "c", "d"}
    assert memoised("a", compute) == 1
