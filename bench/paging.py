"""Deep pages and single records, timed in process: `python -m bench.paging`.

Reads only (anonymous caller), so it may run on the bench databases as `make bench`
left them: an OGC items page deep by `offset` and the same depth reached by following
`next` cursors, one feature, and the REST API's deposit list deep by `page` and by
`cursor`. Django's test Client, DEBUG off, throttles lifted, as `make bench` measures
(docs/performance.md); without REDIS_URL every request does its work, with it the
rows marked "again" are answered from the shared cache.
"""

import argparse
import importlib
import statistics
import sys
import time

from bench.run import configure_environment, machine

ITEMS = "/ogc/collections/deposits/items"
DEPOSITS = "/api/v1/deposits/"


def median_ms(work, repeat: int) -> tuple[float, float]:
    work()  # warm: plans, connections, caches
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs), max(runs)


def measure(page: int, limit: int, repeat: int) -> list[tuple[str, float, float, int]]:
    """(read, median ms, max ms, queries) of each read, at page `page` of `limit`."""
    from django.db import connection
    from django.test import Client

    from bench.measure import QueryCounter
    from deposits.models import Deposit
    from kernel.models import Visibility

    client = Client()
    public = Deposit.objects.filter(visibility=Visibility.PUBLIC)
    page = max(2, min(page, public.count() // limit))  # a page that exists, past the first
    offset = (page - 1) * limit

    def get(url, params=None):
        response = client.get(url, params or {})
        assert response.status_code == 200, (url, params, response.status_code)
        return response

    def ogc_cursor_page() -> str | None:
        """The address of the deep page by cursor: the `next` link of the page before it
        (asked by offset; its `next` carries a cursor where cursors exist)."""
        body = get(ITEMS, {"limit": limit, "offset": offset - limit}).json()
        hrefs = [li["href"] for li in body["links"] if li["rel"] == "next"]
        return hrefs[0] if hrefs and "cursor=" in hrefs[0] else None  # none past the end

    def api_cursor_page() -> str | None:
        """The same for the API's list, walked by cursor: pages of 1000, then of `limit`
        (a cursor names a record, not a page size)."""
        step = 1000 if offset >= 1000 else limit
        body = get(DEPOSITS, {"page_size": step, "cursor": ""}).json()
        if "cursor=" not in (body["next"] or ""):
            return None
        walked = step
        while walked + step <= offset and body["next"]:
            body = get(body["next"]).json()
            walked += step
        href = (body["next"] or "").replace(f"page_size={step}", f"page_size={limit}")
        while walked < offset and href:
            href = get(href).json()["next"]
            walked += limit
        return href or None  # none past the end of the list

    feature = public.order_by("pk").values_list("public_id", flat=True)[public.count() // 2]
    reads = [
        (f"OGC items, limit={limit}, offset={offset}", ITEMS, {"limit": limit, "offset": offset}),
        (f"OGC items, limit={limit}, first page", ITEMS, {"limit": limit}),
    ]
    if deep := ogc_cursor_page():
        reads.append((f"OGC items, limit={limit}, cursor page {page}", deep, None))
    reads.append(("OGC single feature", f"{ITEMS}/{feature}", None))
    reads.append(("API deposit record", f"{DEPOSITS}{feature}/", None))
    reads.append(
        (
            f"API list, page_size={limit}, page={page}",
            DEPOSITS,
            {"page_size": limit, "page": page},
        )
    )
    if deep := api_cursor_page():
        reads.append((f"API list, page_size={limit}, cursor page {page}", deep, None))
    rows = []
    for name, url, params in reads:
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            get(url, params)
        median, worst = median_ms(lambda u=url, p=params: get(u, p), repeat)
        rows.append((name, median, worst, counter.count))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.paging", description=__doc__)
    parser.add_argument("--database-url", help="default: DATABASE_URL or registry_bench")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs of each read")
    parser.add_argument(
        "--page", type=int, default=500, help="the deep page's number (at most the last)"
    )
    parser.add_argument("--limit", type=int, default=100, help="features (records) a page")
    args = parser.parse_args(argv)
    configure_environment(args.database_url)
    importlib.import_module("registry.wsgi")  # the application, loaded as gunicorn loads it
    from django.db import connection

    from deposits.models import Deposit

    public = Deposit.objects.filter(visibility="public").count()
    print(f"python -m bench.paging — {machine()}; {public:,} public deposits")
    print(connection.settings_dict["NAME"])
    print(f"\n{'read':48} {'median ms':>10} {'max ms':>8} {'queries':>8}")
    for name, median, worst, queries in measure(args.page, args.limit, args.repeat):
        print(f"{name:48} {median:10.1f} {worst:8.1f} {queries:8d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
