"""Timing, memory sampling and the query counter shared by every operation."""

import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Resident memory of this process now (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:
        return 0


class PeakMemory:
    """Samples the resident memory every few milliseconds while a block runs; `growth`
    is the peak minus the memory at the start: what one run of the operation needed."""

    def __init__(self, interval: float = 0.005):
        self.interval = interval
        self.start = self.peak = 0
        self._stop = threading.Event()

    def _sample(self):
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_bytes())

    def __enter__(self):
        self.start = self.peak = rss_bytes()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def growth(self) -> int:
        return self.peak - self.start


class QueryCounter:
    """A database execute wrapper counting the queries of a request."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@dataclass
class Timing:
    seconds: list[float] = field(default_factory=list)
    queries: int = 0
    memory: int = 0  # bytes of resident memory the first run needed

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p95(self) -> float:
        ordered = sorted(self.seconds)
        # nearest rank: with five runs this is the slowest, as it should be
        return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def time_runs(work: Callable[[], object], repeat: int, budget: float, warm=True) -> Timing:
    """Run `work` once, counting its queries and memory, then up to `repeat` timed runs,
    stopping early once `budget` seconds are spent. With `warm` off (long operations)
    the first run is timed too."""
    return time_alternately([work], repeat, budget, warm)[0]


def time_alternately(
    works: list[Callable[[], object]], repeat: int, budget: float, warm=True
) -> list[Timing]:
    """`time_runs` of works compared with each other (an operation and its SQL), their
    timed runs taken in turns, `budget` seconds each: a machine that slows down for a
    while slows all of them, not the one that happened to run then."""
    timings = []
    for work in works:
        timing = Timing()
        counter = QueryCounter()
        with PeakMemory() as memory, connection.execute_wrapper(counter):
            start = time.perf_counter()
            work()
            first = time.perf_counter() - start
        timing.queries = counter.count
        timing.memory = memory.growth
        if not warm:
            timing.seconds.append(first)
        timings.append(timing)
    spent = sum(sum(t.seconds) for t in timings)
    for _ in range(repeat - (0 if warm else 1)):
        if spent > budget * len(works):
            break
        for work, timing in zip(works, timings, strict=True):
            start = time.perf_counter()
            work()
            elapsed = time.perf_counter() - start
            timing.seconds.append(elapsed)
            spent += elapsed
    return timings
