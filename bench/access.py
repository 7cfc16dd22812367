"""`make bench-access` (`python -m bench.access`): the worker CPU the access record adds to
a partner's read (kernel/access.py; budget 0.1 ms a request, docs/performance.md).

Two measures, in CPU time of this process (`time.process_time`, so a neighbour's load on
the machine counts far less than in wall time):

1. **The record's own work**: the middleware around a prepared response, the response
   closed, the note built and kept, and every ACCESS_RECORD_BATCH-th time the bulk
   insert into the database, as a request pays for them. Divided by the reads.
2. **End to end**: a partner's cached read of a deposit through the whole stack
   (Django's test Client, in this process), with the middleware and without it, in
   alternating rounds; the difference of the medians. Noisier than the first: it
   checks that nothing else in the request path grew.

The database: DATABASE_URL, or `registry_bench_access` on the local PostgreSQL server
(created, migrated and given 200 synthetic deposits when missing). A partner
organisation and key are made for the run and deleted after it, with their records.
"""

import argparse
import os
import statistics
import sys
import time

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/registry_bench_access"
READS = 20_000  # notes of the first measure
ROUNDS = 15  # alternating rounds of the second
ROUND = 300  # requests a round


def _prepare() -> None:
    from django.core.management import call_command
    from django.db import connection

    from bench.run import _admin_sql, _database_exists

    name = connection.settings_dict["NAME"]
    if connection.vendor == "postgresql" and not _database_exists(name):
        _admin_sql(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)
    from deposits.models import Deposit

    if not Deposit.objects.exists():
        call_command("generate_synthetic", deposits=200, verbosity=0)


def own_work(api_key, reads: int, rounds: int) -> float:
    """CPU seconds a read pays for the record: the middleware, the response closed, the
    note and its share of a bulk insert, less the same loop for an anonymous read (the
    middleware's check alone, and what closing a response costs anyway)."""
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django.urls import resolve

    from kernel import access

    path = "/api/v1/deposits/SYN-000001/"
    returned = access.Returned(count=1, identifiers=("SYN-000001",))

    def request_by(caller):
        request = RequestFactory().get(path, {"as_of": "2020-12-31"})
        request.auth = caller
        request.resolver_match = resolve(path)
        return request

    def view(request):
        response = HttpResponse(b"{}", content_type="application/json")
        access.mark(response, returned)
        return response

    middleware = access.AccessRecordMiddleware(view)
    partner, anonymous = request_by(api_key), request_by(None)

    def cpu(request, count) -> float:
        access.flush()
        started = time.process_time()
        for _ in range(count):
            middleware(request).close()
        access.flush()  # what is left of the last batch: every note paid for
        return (time.process_time() - started) / count

    size = max(reads // rounds, settings_batch())
    differences = [cpu(partner, size) - cpu(anonymous, size) for _ in range(rounds)]
    return statistics.median(differences)


def settings_batch() -> int:
    from django.conf import settings

    return settings.ACCESS_RECORD_BATCH


def end_to_end(api_key_secret: str, url: str, rounds: int, size: int) -> tuple[float, float]:
    """Median CPU seconds a request, with the record and without it."""
    from django.conf import settings
    from django.test import Client, override_settings

    from kernel import access

    middleware = "kernel.access.AccessRecordMiddleware"
    without = [m for m in settings.MIDDLEWARE if m != middleware]
    headers = {"HTTP_AUTHORIZATION": f"Token {api_key_secret}"}
    recording, silent = Client(**headers), Client(**headers)
    assert recording.get(url).status_code == 200
    with override_settings(MIDDLEWARE=without):
        assert silent.get(url).status_code == 200  # its handler keeps this middleware list

    def round_of(client) -> float:
        started = time.process_time()
        for _ in range(size):
            client.get(url)
        return (time.process_time() - started) / size

    timings = {"with": [], "without": []}
    for _ in range(rounds):
        timings["with"].append(round_of(recording))
        timings["without"].append(round_of(silent))
    access.flush()
    return statistics.median(timings["with"]), statistics.median(timings["without"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.access", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--database-url", help=f"default: DATABASE_URL or {DEFAULT_DATABASE_URL}")
    parser.add_argument("--reads", type=int, default=READS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args(argv)

    from bench.run import configure_environment

    configure_environment(args.database_url or os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    # Written by the batch only: no timer thread spends CPU behind the measure's back.
    os.environ["ACCESS_RECORD_SECONDS"] = "0"
    os.environ.setdefault("API_CACHE_SECONDS", "300")  # cached reads, the cheapest ones
    import django

    django.setup()
    from django.conf import settings

    from bench.run import machine
    from cooperation.models import Organisation
    from deposits.models import Deposit
    from kernel.models import AccessRecord, ApiKey

    _prepare()
    organisation = Organisation.objects.create(
        name="Access record benchmark partner", country="KR", kind="geological-survey"
    )
    try:
        api_key, secret = ApiKey.issue(organisation=organisation, note="bench.access")
        deposit = Deposit.objects.filter(visibility="public").order_by("pk").first()
        url = f"/api/v1/deposits/{deposit.public_id}/"
        own = own_work(api_key, args.reads, args.rounds)
        recorded, silent = end_to_end(secret, url, args.rounds, ROUND)
        written = AccessRecord.objects.filter(organisation=organisation).count()
    finally:
        AccessRecord.objects.filter(organisation=organisation).delete()
        organisation.delete()  # its key with it
    batch = settings.ACCESS_RECORD_BATCH
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(f"\nmake bench-access — {machine()}; batch of {batch}, {cache}\n")
    print(
        f"the record's own work, a partner's read less an anonymous one (median of "
        f"{args.rounds} rounds, {args.reads:,} reads each way): {own * 1e3:.4f} ms CPU"
    )
    print(
        f"a partner's cached read, end to end (median of {args.rounds} rounds of {ROUND}): "
        f"{recorded * 1e3:.3f} ms CPU with the record, {silent * 1e3:.3f} ms without: "
        f"{(recorded - silent) * 1e3:+.3f} ms"
    )
    print(f"records written: {written:,}")
    verdict = "PASS" if own < 1e-4 else "FAIL"
    print(f"budget: under 0.1 ms a read — {verdict}")
    return 0 if own < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
