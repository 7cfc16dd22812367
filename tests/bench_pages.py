"""Benchmark of the deposit list page with 100,000 deposits (run by `make bench`).

Not collected by `make test` (the file name does not match test_*.py). Prints,
for each list URL, the page's time and the ratio to the database's own time
for the same work (the count and the page's rows, run as plain SQL).
"""

import os
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from deposits.models import Deposit, DepositCommodity, Mineral, Region, ReserveEstimate

DEPOSITS = int(os.environ.get("BENCH_DEPOSITS", 100_000))
REPEAT = 5
URLS = [
    {},
    {"mineral": "silver"},
    {"mineral": "silver", "region": "TJ-SU", "ordering": "-name"},
    {"q": "deposit 9999"},
    {"mineral": "silver", "min_share": "0.001"},
    {"page": "1000"},
]


@pytest.fixture
def registry(django_db_setup, django_db_blocker, pages_settings):
    """100,000 deposits with two minerals each and a silver estimate on every tenth."""
    with django_db_blocker.unblock():
        regions = [
            Region.objects.get_or_create(code=c, defaults={"name": c})[0]
            for c in ("TJ-SU", "TJ-KT", "TJ-GB", "TJ-RA", "TJ-DU")
        ]
        silver, _ = Mineral.objects.get_or_create(
            code="silver", defaults={"symbol": "Ag", "name": "Silver", "group": "precious"}
        )
        lead, _ = Mineral.objects.get_or_create(
            code="lead", defaults={"symbol": "Pb", "name": "Lead", "group": "base"}
        )
        deposits = Deposit.objects.bulk_create(
            Deposit(
                public_id=f"TJB-{n:06d}",
                name=f"Bench deposit {n}",
                search_text=f"bench deposit {n}",
                region=regions[n % 5],
                latitude=Decimal("38.5"),
                longitude=Decimal("69.5"),
                status="explored",
            )
            for n in range(DEPOSITS)
        )
        DepositCommodity.objects.bulk_create(
            DepositCommodity(deposit=d, mineral=m, role="main" if m is silver else "associated")
            for d in deposits
            for m in (silver, lead)
        )
        ReserveEstimate.objects.bulk_create(
            ReserveEstimate(
                public_id=f"TJB-R{n:06d}",
                deposit=d,
                mineral=silver,
                category="C1",
                balance=True,
                quantity=10,
                unit="t",
            )
            for n, d in enumerate(deposits[::10])
        )
        yield
        Deposit.objects.filter(public_id__startswith="TJB-").delete()


class DatabaseTimer:
    """An execute wrapper adding up the time the database spends on each query."""

    def __init__(self):
        self.seconds = 0.0
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.queries += 1


@pytest.mark.django_db
def test_deposit_list_with_100000_deposits(registry, client):
    print(f"\ndeposit list, {DEPOSITS:,} deposits, best of {REPEAT}")
    print(f"{'parameters':55} {'page ms':>8} {'SQL ms':>8} {'ratio':>6} {'queries':>7}")
    url = reverse("deposit-list")
    for params in URLS:
        best = None
        for _ in range(REPEAT):
            timer = DatabaseTimer()
            with connection.execute_wrapper(timer):
                start = time.perf_counter()
                assert client.get(url, params).status_code == 200
                elapsed = time.perf_counter() - start
            if best is None or elapsed < best[0]:
                best = (elapsed, timer)
        elapsed, timer = best
        label = "&".join(f"{k}={v}" for k, v in params.items()) or "(no filter)"
        print(
            f"{label:55} {elapsed * 1000:8.1f} {timer.seconds * 1000:8.1f} "
            f"{elapsed / timer.seconds:6.1f} {timer.queries:7d}"
        )
