"""The operations measured by `make bench`: each is a request to the app (Django's test
Client, in this process) and, where it has one, the same work as bare SQL.

The caller is anonymous, so everything runs on the `public` deposits; the SQL
equivalents filter the same way. The partner operations (`partner_operations`) read with
partner keys instead (bench/partners.py), as a partner's GIS tool or sync job does.
"""

import csv
import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from tablib import Dataset

from bench import sql
from deposits.api.stats import DEFAULT_TOP
from deposits.models import Deposit, Mineral

MINERAL = "silver"
# SYN-000001 … SYN-000999: the same matches (more than a page) at every size, so the two
# sizes compare the same work ("etic 12", "Synthetic 12…", matched 77 deposits at 10,000
# and 741 at 100,000: a half page against a full one).
SEARCH = "syn-000"
PAGE_SIZE = 100
SUGGESTIONS = 10  # what the search endpoint answers by default (reports/search.py)
# A past date the synthetic history covers (its balance lines run 2015-2024): figures as
# of it are read from the estimates in force then, not from the kept sums.
AS_OF = datetime.date(2020, 12, 31)
IMPORT_HEADER = [
    "name",
    "aliases",
    "region",
    "latitude",
    "longitude",
    "status",
    "main_minerals",
    "associated_minerals",
    "visibility",
    "sources",
]


@dataclass
class Operation:
    name: str
    app: Callable[[], object]
    database: Callable[[], object] | None
    target: str  # how the figure is judged, printed beside it
    paged: bool = False  # must not grow with the table
    beside: Callable[[], object] | None = None  # the reference of a "1.5 api" target
    # (and of a "1.2 partner" one: the same read by a partner key without clauses)
    exports: bool = False  # fewer repetitions: they read every deposit


def _get(client: Client, url: str, params=None) -> int:
    """Fetch a URL and read the whole body (streamed responses included)."""
    response = client.get(url, params or {})
    assert response.status_code == 200, (url, params, response.status_code)
    if response.streaming:
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def admin_client() -> Client:
    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    return client


def sample_deposit() -> tuple[int, str]:
    """(primary key, public id) of a public deposit with several minerals, the same one at
    every size: the record the detail operations read."""
    public = Deposit.objects.filter(visibility="public", name__startswith="SYN-")
    return public.order_by("pk").values_list("pk", "public_id")[:1].get()


def operations() -> list[Operation]:
    client = Client()
    admin = admin_client()  # per database: each size has its own users and sessions
    pg = on_postgresql()
    _, sample = sample_deposit()
    mineral = {"mineral": MINERAL}
    listed = sql.PUBLIC + " AND " + sql.MINERAL
    searched = sql.PUBLIC + " AND " + sql.SEARCH
    search_params = {"pattern": f"%{SEARCH}%", "needle": SEARCH}
    api = "/api/v1/deposits/"

    def same_list_in_api():  # the /deposits/ page's filter and page size
        return _get(client, api, {**mineral, "page_size": settings.PAGES_PAGE_SIZE})

    by_share = {**mineral, "ordering": "-share"}

    def same_sorted_list_in_api():  # the /deposits/ page sorted by share, its page size
        return _get(client, api, {**by_share, "page_size": settings.PAGES_PAGE_SIZE})

    def when_pg(work):
        return work if pg else None

    return [
        Operation(
            "API list, mineral, page_size=100",
            lambda: _get(client, api, {**mineral, "page_size": PAGE_SIZE}),
            when_pg(lambda: sql.page(listed, mineral, PAGE_SIZE)),
            "4",
            paged=True,
        ),
        Operation(
            "API detail",
            lambda: _get(client, f"{api}{sample}/"),
            when_pg(lambda: sql.detail(sample)),
            "3",
            paged=True,
        ),
        Operation(
            "API q= search, page_size=100",
            lambda: _get(client, api, {"q": SEARCH, "page_size": PAGE_SIZE}),
            when_pg(lambda: sql.page(searched, search_params, PAGE_SIZE)),
            "3",
            paged=True,
        ),
        Operation(
            "API list, mineral, as_of, page_size=100",
            lambda: _get(client, api, {**mineral, "as_of": AS_OF, "page_size": PAGE_SIZE}),
            when_pg(lambda: sql.page(listed, mineral, PAGE_SIZE, lambda: sql.deposit(AS_OF))),
            "3",
            paged=True,
        ),
        Operation(
            "stats/minerals/, as_of",
            lambda: _get(client, "/api/v1/stats/minerals/", {"as_of": AS_OF}),
            when_pg(lambda: sql.mineral_statistics(AS_OF, DEFAULT_TOP)),
            "3",
            paged=True,  # the target: at most 2× slower at 100,000 than at 10,000
        ),
        Operation(
            "search suggestions, q=syn-000",
            lambda: _get(client, "/api/v1/search/", {"q": SEARCH}),
            when_pg(lambda: sql.suggestions(searched, search_params, SUGGESTIONS)),
            "3",
            paged=True,
        ),
        Operation(
            "OGC items, limit=100",
            lambda: _get(client, "/ogc/collections/deposits/items", {"limit": PAGE_SIZE}),
            when_pg(lambda: sql.ogc_page(sql.PUBLIC, {}, PAGE_SIZE)),
            "3",
            paged=True,
        ),
        Operation(
            "/deposits/ page, mineral",
            lambda: _get(client, "/deposits/", mineral),
            None,
            "1.5 api",
            paged=True,
            beside=same_list_in_api,
        ),
        Operation(
            "  API list, same filter and page size",
            same_list_in_api,
            when_pg(lambda: sql.page(listed, mineral, settings.PAGES_PAGE_SIZE)),
            "4",
            paged=True,
        ),
        # Sorted by share, every deposit of the mineral has its share computed before the
        # first page can be cut: the time grows with the mineral's deposits, so it is
        # judged against the API answering the same (and reported), not for being flat.
        Operation(
            "/deposits/ page, mineral, by share",
            lambda: _get(client, "/deposits/", by_share),
            None,
            "1.5 api",
            beside=same_sorted_list_in_api,
        ),
        Operation(
            "  API list, same filter, order and page size",
            same_sorted_list_in_api,
            None,
            "reported",
        ),
        Operation(
            "admin deposit list",
            lambda: _get(admin, "/admin/deposits/deposit/"),
            None,
            "queries",
            paged=True,
        ),
        Operation(
            "CSV export, all",
            lambda: _get(client, api, {"format": "csv"}),
            when_pg(lambda: sql.copy_csv(sql.PUBLIC)),
            "2",
            exports=True,
        ),
        Operation(
            "GeoJSON export, all",
            lambda: _get(client, api, {"format": "geojson"}),
            when_pg(lambda: sql.feature_collection(sql.PUBLIC, {})),
            "2",
            exports=True,
        ),
    ]


PARTNER_CLAUSES = "50-grant partner: "  # bench.partners.GRANTS
PARTNER_OPERATIONS = [
    PARTNER_CLAUSES + "API list, mineral",  # page_size=100
    PARTNER_CLAUSES + "API detail",
    PARTNER_CLAUSES + "OGC items, limit=100",
]


def partner_operations(without_clauses: str, with_clauses: str) -> list[Operation]:
    """A partner's list, record and OGC page read with the key of an organisation holding
    50 clauses in force, each timed in turns with the same read by a key of one holding
    none (today's partner figure): the clauses may cost at most a fifth more. The keys go
    in the header, as partners send them, through the whole request path (authentication,
    throttling, the access record); the API's answer cache is off in this process (no
    REDIS_URL), so every read is computed."""
    _, sample = sample_deposit()
    plain = Client(HTTP_AUTHORIZATION=f"Token {without_clauses}")
    granted = Client(HTTP_AUTHORIZATION=f"Token {with_clauses}")
    reads = [
        ("/api/v1/deposits/", {"mineral": MINERAL, "page_size": PAGE_SIZE}),
        (f"/api/v1/deposits/{sample}/", {}),
        ("/ogc/collections/deposits/items", {"limit": PAGE_SIZE}),
    ]
    return [
        Operation(
            name,
            lambda url=url, params=params: _get(granted, url, params),
            None,
            "1.2 partner",
            beside=lambda url=url, params=params: _get(plain, url, params),
        )
        for name, (url, params) in zip(PARTNER_OPERATIONS, reads, strict=True)
    ]


# A point inside each region's polygon, so imported rows pass the entry checks.
REGION_POINTS = {
    "TJ-SU": ("39.900000", "69.000000"),
    "TJ-KT": ("37.800000", "68.800000"),
    "TJ-GB": ("38.300000", "72.800000"),
    "TJ-RA": ("38.900000", "69.900000"),
}


def import_rows(count: int) -> bytes:
    """A spreadsheet (CSV) of `count` new deposits, as staff would upload it."""
    minerals = list(Mineral.objects.order_by("code").values_list("code", flat=True))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(IMPORT_HEADER)
    for n in range(count):
        writer.writerow(
            [
                f"SYN-IMPORT-{n:06d}",
                f"Imported {n}; Импорт {n}",
                region := list(REGION_POINTS)[n % 4],
                *REGION_POINTS[region],
                "explored",
                minerals[n % len(minerals)],
                minerals[(n + 7) % len(minerals)],
                "public",
                "bench import",
            ]
        )
    return out.getvalue().encode()


def spreadsheet_import(count: int) -> tuple[int, int]:
    """Import `count` rows through the admin's resource (validation, history, savepoints),
    then roll everything back so the benchmark database keeps its size.
    Returns (rows imported, history records written)."""
    from deposits.resources import DepositResource

    dataset = Dataset().load(import_rows(count).decode(), format="csv")
    with transaction.atomic():
        history_before = Deposit.history.count()
        result = DepositResource().import_data(dataset, dry_run=False, raise_errors=True)
        assert not result.has_validation_errors(), result.invalid_rows[:3]
        imported = result.totals["new"]
        history = Deposit.history.count() - history_before
        transaction.set_rollback(True)
    return imported, history
