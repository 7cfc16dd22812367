"""Figures kept in the process under the registry's generation (kernel/kept.py): reused
while the registry, the day and a minute hold; never inside a transaction; bounded."""

import datetime
import time
from types import SimpleNamespace

import pytest
from django.db import transaction

from kernel import kept as kept_module
from kernel.kept import kept
from kernel.models import RegistryGeneration


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.calls


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_value_is_kept_until_the_generation_the_day_or_a_minute_moves_on(monkeypatch):
    compute = Counter()
    assert kept("figure", compute) == 1
    assert kept("figure", compute) == 1  # reused
    assert kept("other figure", compute) == 2  # each key its own

    RegistryGeneration.move_on()  # a committed write
    assert kept("figure", compute) == 3
    assert kept("figure", compute) == 3

    # The module's own clocks moved on, not the process's.
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    monkeypatch.setattr(kept_module, "timezone", SimpleNamespace(localdate=lambda: tomorrow))
    assert kept("figure", compute) == 4

    later = time.monotonic() + kept_module.KEPT_SECONDS + 1
    monkeypatch.setattr(kept_module, "time", SimpleNamespace(monotonic=lambda: later))
    assert kept("figure", compute) == 5
    assert kept("figure", compute) == 5

    # Inside a transaction its own writes have moved no generation: computed afresh.
    with transaction.atomic():
        assert kept("figure", compute) == 6
    assert kept("figure", compute) == 5


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_least_recently_read_are_dropped_past_the_bound(monkeypatch):
    monkeypatch.setattr(kept_module, "KEPT_MOST", 3)
    compute = Counter()
    for key in ("a", "b", "c"):
        kept(key, compute)
    kept("a", compute)  # read again: "b" is now the least recently read
    kept("d", compute)
    assert set(kept_module._kept) == {"a", "c", "d"}
    assert kept("a", compute) == 1
