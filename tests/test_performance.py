"""Performance guards that are not timings: lists take a fixed number of queries
whatever their page size, and `make bench` still runs end to end.

Query counts pinned elsewhere (not repeated here): the API deposit list
(tests/test_api_deposits.py), the OGC items page (tests/test_ogc.py; by cursor and one
feature: tests/test_ogc_paging.py), the
/deposits/ page by rows (tests/test_pages.py) and the admin deposit changelist
(tests/test_deposits_admin.py).
"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CommodityFactory, DepositFactory, ReserveEstimateFactory

RESERVES = "/api/v1/reserves/"


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_reserve_list_query_count_does_not_grow_with_page_size(api_client):
    for n in range(12):
        commodity = CommodityFactory(deposit=DepositFactory(name=f"Deposit {n}"))
        for category in ("A", "B", "C1"):
            ReserveEstimateFactory(
                deposit=commodity.deposit, mineral=commodity.mineral, category=category
            )
    # count, the page with its deposit and mineral joined
    assert count_queries(api_client, RESERVES, {"page_size": 2}) == 2
    assert count_queries(api_client, RESERVES, {"page_size": 36}) == 2
    assert count_queries(api_client, RESERVES, {"page_size": 36, "mineral": "silver"}) == 3


@pytest.mark.django_db
def test_deposit_page_query_count_does_not_grow_with_page_size(client, settings):
    settings.SECURE_SSL_REDIRECT = False
    for _ in range(30):
        ReserveEstimateFactory(deposit=CommodityFactory(deposit=DepositFactory()).deposit)
    settings.PAGES_PAGE_SIZE = 3
    few = count_queries(client, reverse("deposit-list"))
    settings.PAGES_PAGE_SIZE = 30
    assert count_queries(client, reverse("deposit-list")) == few


@pytest.mark.django_db
def test_bench_runs_end_to_end_on_a_tiny_registry(settings):
    """The benchmark code cannot rot: every operation runs, the table has every row."""
    from bench import run

    settings.SECURE_SSL_REDIRECT = False
    report = run.run([30, 40], repeat=1, budget=1, import_rows=5, log=lambda m: None, prepare=False)
    text = run.table(report)
    names = {row.name.strip() for row in report.rows}
    assert {
        "API list, mineral, page_size=100",
        "API detail",
        "API q= search, page_size=100",
        "OGC items, limit=100",
        "/deposits/ page, mineral",
        "admin deposit list",
        "CSV export, all",
        "GeoJSON export, all",
        "spreadsheet import, 5 rows",
    } <= names
    assert all(row.verdict for row in report.rows)
    assert "time ×" in text and "5 created, 5 history records" in text


def test_compared_works_are_timed_in_turns():
    """An operation and its reference alternate, so a slow spell of the machine weighs on
    both (bench.measure.time_alternately)."""
    from bench.measure import time_alternately

    order = []
    page, api = time_alternately(
        [lambda: order.append("page"), lambda: order.append("api")], repeat=3, budget=10
    )
    assert order == ["page", "api"] * 4  # one untimed run each, then three rounds
    assert len(page.seconds) == len(api.seconds) == 3


def test_each_bench_size_keeps_its_own_database():
    """`--sizes 100000` alone neither grows the default run's 10,000-deposit database nor
    makes a second 100,000 one beside `registry_bench_100k`; a database named by the one
    running the bench holds its first size, whatever it is."""
    from bench.run import database_names

    assert database_names("registry_bench", [10_000, 100_000]) == [
        "registry_bench",
        "registry_bench_100k",
    ]
    assert database_names("registry_bench", [100_000]) == ["registry_bench_100k"]
    assert database_names("registry_bench", [1_000, 10_000]) == [
        "registry_bench_1k",
        "registry_bench_10k",
    ]
    assert database_names("registry_bench_100k", [100_000]) == ["registry_bench_100k"]
    assert database_names("mine", [100_000, 200_000]) == ["mine", "mine_200k"]


@pytest.mark.django_db
def test_bench_partner_operations_run_on_a_tiny_registry(settings):
    """`--only partner`: a partner holding 50 clauses in force, made through the models as
    staff make them, read in turns with a partner holding none; both are gone afterwards."""
    from bench import operations, partners, run
    from cooperation.models import DataGrant, GrantedDeposit, Organisation
    from deposits.models import Deposit
    from reports import synthetic

    settings.SECURE_SSL_REDIRECT = False
    synthetic.generate(60, seed=3)
    sample_pk, _ = operations.sample_deposit()
    with partners.keys(sample_pk) as (without_clauses, with_clauses):
        assert DataGrant.objects.filter(opens_on__isnull=False).count() == partners.GRANTS
        # The clauses open internal deposits to one partner only, as the rule reads them.
        opened = GrantedDeposit.objects.filter(deposit__visibility="internal")
        internal = Deposit.objects.get(pk=opened.values("deposit_id")[:1])
        url = f"/api/v1/deposits/{internal.public_id}/"
        read = [
            Client(HTTP_AUTHORIZATION=f"Token {key}").get(url).status_code
            for key in (without_clauses, with_clauses)
        ]
        assert read == [404, 200]
    assert not Organisation.objects.filter(name__startswith=partners.PREFIX).exists()
    assert not DataGrant.objects.exists()

    report = run.run(
        [60], repeat=1, budget=1, import_rows=0, log=lambda m: None, prepare=False, only="partner"
    )
    assert [row.name for row in report.rows] == operations.PARTNER_OPERATIONS
    assert all("no grants" in row.verdict and row.beside for row in report.rows)
    assert "without grants" in run.table(report)
    assert not DataGrant.objects.exists()


@pytest.mark.django_db
def test_bench_paging_reads_deep_pages_by_offset_and_by_cursor(settings):
    """`python -m bench.paging` cannot rot: every read runs, and a page by cursor takes
    the queries of a page by offset."""
    from bench import paging
    from reports import synthetic

    settings.SECURE_SSL_REDIRECT = False
    synthetic.generate(40, seed=5)
    rows = {name: queries for name, _median, _worst, queries in paging.measure(3, 4, 1)}
    assert set(rows) == {
        "OGC items, limit=4, offset=8",
        "OGC items, limit=4, first page",
        "OGC items, limit=4, cursor page 3",
        "OGC single feature",
        "API deposit record",
        "API list, page_size=4, page=3",
        "API list, page_size=4, cursor page 3",
    }
    assert rows["OGC items, limit=4, cursor page 3"] == rows["OGC items, limit=4, offset=8"]
    assert rows["API list, page_size=4, cursor page 3"] == rows["API list, page_size=4, page=3"]
