"""`python -m bench.webhooks`: what webhooks add to a write, with no subscription and with
100 (docs/performance.md, "Webhooks").

A staff key's PATCH of a deposit through the API (the whole middleware stack, its
transaction, history and the work done once it commits), timed in turns with 0, 1 and
100 active subscriptions, on a fresh PostgreSQL database `registry_bench_webhooks` (or
DATABASE_URL). No worker runs: the deliveries wait in the queue, as they would while a
worker is busy, and the write must not wait for them.
"""

import argparse
import statistics
import sys
import time

from bench.run import _admin_sql, configure_environment, use_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/registry_bench_webhooks"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks")
    parser.add_argument("--writes", type=int, default=200, help="timed writes of each kind")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args(argv)
    configure_environment(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    name = connection.settings_dict["NAME"]
    assert name.startswith("registry_bench"), "the benchmark only writes bench databases"
    use_database("postgres")
    _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin_sql(f'CREATE DATABASE "{name}"')
    use_database(name)
    call_command("migrate", verbosity=0)

    from rest_framework.test import APIClient

    from deposits.models import Deposit, Region
    from kernel.models import ApiKey
    from reports.models import WebhookSubscription
    from tests.factories import UserFactory

    user = UserFactory(username="bench-webhooks", is_superuser=True)
    api_key, key = ApiKey.issue(user=user)
    region = Region.objects.first() or Region.objects.create(code="TJ-SU", name="Sughd")
    deposit = Deposit.objects.create(name="Bench deposit", region=region, sources=["bench"])
    for n in range(100):
        WebhookSubscription.objects.create(
            api_key=api_key, url=f"https://receiver{n}.example/hook", active=False
        )
    client = APIClient(HTTP_X_FORWARDED_PROTO="https")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    url = f"/api/v1/deposits/{deposit.public_id}/"

    def write(n: int) -> float:
        etag = client.get(url)["ETag"]
        start = time.perf_counter()
        response = client.patch(
            url, {"description": f"write {n}"}, format="json", HTTP_IF_MATCH=etag
        )
        seconds = time.perf_counter() - start
        assert response.status_code == 200, response.content
        return seconds

    times = {0: [], 1: [], 100: []}
    first = WebhookSubscription.objects.order_by("pk").values_list("pk", flat=True)[:1]
    for n in range(args.writes * len(times)):
        subscribed = list(times)[n % len(times)]
        WebhookSubscription.objects.update(active=subscribed == 100)
        if subscribed == 1:
            WebhookSubscription.objects.filter(pk__in=list(first)).update(active=True)
        times[subscribed].append(write(n))
    for subscribed, seconds in times.items():
        seconds = seconds[5:]  # warm-up
        print(
            f"{subscribed:>3} subscriptions: median {statistics.median(seconds) * 1000:.2f} ms, "
            f"p95 {statistics.quantiles(seconds, n=20)[-1] * 1000:.2f} ms "
            f"({len(seconds)} writes)"
        )
    for subscribed in (1, 100):
        ratio = statistics.median(times[subscribed][5:]) / statistics.median(times[0][5:])
        print(f"ratio {subscribed}/0: {ratio:.2f}", file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
