"""`make bench-map` (`python -m bench.map`): the pages' map at scale.

On each synthetic registry (the databases `make bench` made, `registry_bench` and
`registry_bench_100k`, or the database names given), the map data of the deposit list,
all deposits and filtered by mineral, for an anonymous reader (the public deposits) and
for staff (every deposit):

- the request in this process (Django's test Client, as `make bench` times its
  operations): median time, bytes as sent (gzip) and as JSON, rows, queries;
- for reference, the other way (clustered by the server, a query per view): the query
  grouping the deposits into cells at three zoom levels;
- the list page in Debian's Chromium, served from this process: the map data request
  as the browser saw it (fetched and read) and the time to make and cluster the markers
  (the page's own performance measures, deposits/static/deposits/map.js), when the
  map was drawn after the page was asked for, and the page's JavaScript heap then;
  medians of `--loads` loads.

docs/performance.md, "The map", holds the figures and what they decided.
"""

import argparse
import os
import statistics
import sys
import time
from decimal import Decimal

from bench.run import configure_environment, refuse_real_records, synthetic_count, use_database

DATABASES = ["registry_bench", "registry_bench_100k"]
CHROMIUM = "/usr/bin/chromium"
MINERAL = "silver"
CASES = [  # (name, list page query, as staff)
    ("all, anonymous", "", False),
    ("all, staff", "", True),
    (f"mineral={MINERAL}, anonymous", f"mineral={MINERAL}", False),
    (f"mineral={MINERAL}, staff", f"mineral={MINERAL}", True),
]
DRAWN = "#deposit-map[data-markers]"


def server_side(client, query: str, repeat: int) -> dict:
    """The map data request in this process: median seconds, bytes, rows, queries."""
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = f"/deposits/map.json?{query}"
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    sent = len(response.content)
    with CaptureQueriesContext(connection) as queries:
        plain = client.get(url).content
    return {
        "seconds": statistics.median(seconds),
        "gzip": sent,
        "json": len(plain),
        "rows": len(json.loads(plain)["deposits"]),
        "queries": len(queries),
    }


def server_grid(staff: bool, repeat: int) -> dict[int, tuple[int, float]]:
    """The other way, for reference (the pages do not use it): the server clusters, one
    request per view, the located deposits the reader may see grouped into cells of about
    50 px (a 256 px tile spans 360 / 2**zoom degrees), their count and mean place per
    cell. Per zoom level: (cells, median seconds of the query)."""
    from django.db.models import Avg, Count, F, Value
    from django.db.models.functions import Floor

    from deposits.models import Deposit

    deposits = Deposit.objects.filter(latitude__isnull=False, longitude__isnull=False)
    if not staff:
        deposits = deposits.filter(visibility="public")
    figures = {}
    for zoom in (6, 8, 10):
        cell = Decimal(360) / 2**zoom * Decimal(50) / Decimal(256)
        grouped = (
            deposits.annotate(
                gx=Floor(F("longitude") / Value(cell)), gy=Floor(F("latitude") / Value(cell))
            )
            .values("gx", "gy")
            .annotate(n=Count("pk"), lat=Avg("latitude"), lon=Avg("longitude"))
            .order_by()
        )
        seconds = []
        for _ in range(repeat):
            started = time.perf_counter()
            cells = len(list(grouped.all()))  # a new query each time, not the cached rows
            seconds.append(time.perf_counter() - started)
        figures[zoom] = (cells, statistics.median(seconds))
    return figures


def browser_side(browser, base: str, query: str, session: str | None, loads: int) -> dict:
    """The list page in Chromium: medians of the page's map measures, in seconds."""
    figures = {"request": [], "draw": [], "drawn": [], "heap": []}
    for _ in range(loads):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        if session:
            context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        page.goto(f"{base}/deposits/?{query}")
        page.wait_for_selector(DRAWN, timeout=300_000)
        measures = page.evaluate(
            """() => Object.fromEntries(performance.getEntries()
                .filter((e) => e.name.startsWith("deposit-map-"))
                .map((e) => [e.name, e.entryType === "mark" ? e.startTime : e.duration]))"""
        )
        if errors:
            raise SystemExit(f"bench-map: the page failed: {errors}")
        figures["request"].append(measures["deposit-map-data"] / 1000)
        figures["draw"].append(measures["deposit-map-draw"] / 1000)
        figures["drawn"].append(measures["deposit-map-drawn"] / 1000)
        figures["heap"].append(page.evaluate("performance.memory.usedJSHeapSize") / 1e6)
        context.close()
    return {name: statistics.median(values) for name, values in figures.items()}


def live_server():
    """The app served from a thread of this process, as the page tests serve it (static
    files from the finders: nothing collected)."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    server = LiveServerThread("127.0.0.1", StaticFilesHandler, connections_override={})
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    return server


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.map", description=__doc__)
    parser.add_argument("databases", nargs="*", default=DATABASES)
    parser.add_argument("--repeat", type=int, default=5, help="server requests per case")
    parser.add_argument("--loads", type=int, default=3, help="page loads per case")
    args = parser.parse_args(argv)
    configure_environment(None)
    # Playwright's sync API keeps an event loop in this thread; the ORM calls beside it
    # stay synchronous and safe (as in the page tests, tests/test_pages_browser.py).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings
    from playwright.sync_api import sync_playwright

    from bench.operations import admin_client

    plain_static = override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    )
    rows, grids = [], []
    with plain_static, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        for name in args.databases:
            use_database(name)
            refuse_real_records()
            size = synthetic_count()
            anonymous, staff = Client(), admin_client()
            session = staff.cookies["sessionid"].value
            server = live_server()
            base = f"http://127.0.0.1:{server.port}"
            for case, query, as_staff in CASES:
                print(f"{size:,}: {case} ...", file=sys.stderr)
                served = server_side(staff if as_staff else anonymous, query, args.repeat)
                seen = browser_side(browser, base, query, session if as_staff else None, args.loads)
                rows.append((size, case, served, seen))
            server.terminate()
            grids.append((size, "anonymous", server_grid(False, args.repeat)))
            grids.append((size, "staff", server_grid(True, args.repeat)))
        browser.close()

    print(
        "| deposits | map data of | rows | queries | request (server) | gzip | JSON "
        "| request (browser) | cluster | drawn after | JS heap |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size, case, served, seen in rows:
        print(
            f"| {size:,} | {case} | {served['rows']:,} | {served['queries']} "
            f"| {served['seconds']:.3f} s | {served['gzip'] / 1000:,.0f} kB "
            f"| {served['json'] / 1000:,.0f} kB | {seen['request']:.2f} s "
            f"| {seen['draw']:.2f} s | {seen['drawn']:.2f} s | {seen['heap']:.0f} MB |"
        )
    print()
    print("Reference, not used by the pages: clustered by the server, one query per view")
    print("| deposits | reader | zoom 6: cells, query | zoom 8 | zoom 10 |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for size, reader, figures in grids:
        cells = " | ".join(f"{n:,} cells, {seconds:.3f} s" for n, seconds in figures.values())
        print(f"| {size:,} | {reader} | {cells} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
