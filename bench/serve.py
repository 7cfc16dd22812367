"""`make bench-serve`: throughput of `make serve`'s gunicorn, measured with wrk over
loopback, against the framework's floor (bench/floor.py) answering the same number of
bytes. Uses the largest `make bench` database (registry_bench_100k) unless
DATABASE_URL is set, and Redis (REDIS_URL, default the local server) as production
does, so API reads are answered from the shared cache (kernel/api/caching.py); each
endpoint is measured again with that cache off (API_CACHE_SECONDS=0), for reference:
the ≥ 0.5 target is for production serving, which has the shared cache. The record is
read both anonymously and as a partner agency does, with an API key (a key issued to
a synthetic organisation for the run, deleted after it)."""

import contextlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

from bench.run import DEFAULT_DATABASE_URL

HOST, PORT = "127.0.0.1", int(os.environ.get("BENCH_PORT", "8020"))
DURATION = os.environ.get("BENCH_WRK_DURATION", "6s")  # a run; ROUNDS runs of each
# An endpoint and its floor are measured in turns, ROUNDS times each (medians): this
# machine's speed drifts over minutes, and a floor measured once, before or after,
# moved the ratio by a third between runs.
ROUNDS = int(os.environ.get("BENCH_WRK_ROUNDS", "3"))
BASE = f"http://{HOST}:{PORT}"
# Search as you type answers within this, at its median, through the production server
# (the issue's measure). Its uncached row is judged by that: a reader typing asks what
# nobody asked since the last change. Its cached row is a repeated query, judged like
# every kept read, against the floor.
SUGGESTIONS_P50_MS = 100
TARGETS = [  # (name, path, read with the partner's key)
    ("API detail", "/api/v1/deposits/{sample}/", False),
    ("API detail, partner key", "/api/v1/deposits/{sample}/", True),
    ("API list, mineral, page_size=100", "/api/v1/deposits/?mineral=silver&page_size=100", False),
    ("API list, partner key", "/api/v1/deposits/?mineral=silver&page_size=100", True),
    # A real name (no synthetic deposit has it) and the prefix 999 synthetic ones match.
    ("search suggestions, q=Konimansur", "/api/v1/search/?q=Konimansur", False),
    ("search suggestions, q=syn-000", "/api/v1/search/?q=syn-000", False),
]


def _seconds(value: str, unit: str) -> float:
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def wrk(url: str, headers: dict) -> dict:
    options = [f"--header={name}: {value}" for name, value in headers.items()]
    out = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{DURATION}", "--latency", *options, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))

    def ms(text):
        value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
        return _seconds(value, unit) * 1000

    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": ms(latency["50"]),
        "p99": ms(latency["99"]),
    }


def in_turns(url: str, headers: dict, floor_url: str) -> tuple[dict, dict]:
    """`wrk` of an endpoint and of its floor, taken in turns: the medians of each."""
    runs = [(wrk(url, headers), wrk(floor_url, {})) for _ in range(ROUNDS)]

    def medians(results):
        return {name: statistics.median(r[name] for r in results) for name in results[0]}

    return medians([app for app, _ in runs]), medians([floor for _, floor in runs])


@contextlib.contextmanager
def gunicorn(
    workers: int,
    env: dict,
    app: str = "registry.wsgi",
    port: int = PORT,
    executable: str | None = None,
    ready: str = "/healthz",
):
    """`app` under gunicorn with `workers` sync workers on loopback, stopped on exit; by
    default the registry as `make serve` runs it, on this module's port."""
    server = subprocess.Popen(
        [
            executable or os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            app,
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://{HOST}:{port}{ready}", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        yield
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def serving_env() -> dict:
    """The environment of `make serve` for a benchmark: production settings (DEBUG off),
    throttles lifted for one caller asking far more often than a person would, the
    largest `make bench` database unless DATABASE_URL is set, Redis as production has it."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-not-a-secret"),
        "SECURE_SSL_REDIRECT": "false",
        "API_THROTTLE_ANON": "1000000000/minute",
        "API_THROTTLE_KEY": "1000000000/minute",
        "DATABASE_URL": os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL + "_100k"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1"),
    }


def set_up_django(env: dict) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()


def forget_cached_answers() -> None:
    """Start a new registry generation in the cache: answers kept there may have been
    read from another database at the same URLs (`make bench` regenerates its databases
    without this cache)."""
    from kernel.api.caching import registry_changed

    registry_changed()


@contextlib.contextmanager
def partner_key():
    """An API key of a synthetic partner organisation, for the run only."""
    from cooperation.models import Organisation
    from kernel.models import ApiKey

    organisation = Organisation.objects.filter(name__startswith="SYN").order_by("pk").first()
    api_key, key = ApiKey.issue(organisation=organisation, note="make bench-serve (synthetic)")
    try:
        yield key
    finally:
        api_key.delete()


def main() -> int:
    if shutil.which("wrk") is None:
        print("bench-serve needs wrk: apt-get install -y wrk", file=sys.stderr)
        return 1
    workers = 2 * (os.cpu_count() or 1) + 1
    env = serving_env()
    set_up_django(env)
    forget_cached_answers()
    with gunicorn(workers, env):
        listing = urllib.request.urlopen(f"{BASE}/api/v1/deposits/?page_size=1").read()
    sample = re.search(rb'"id":"([^"]+)"', listing).group(1).decode()
    results = {}
    with partner_key() as key:
        targets = [
            (
                name,
                BASE + path.format(sample=sample),
                {"Authorization": f"Token {key}"} if keyed else {},
            )
            for name, path, keyed in TARGETS
        ]
        for mode, cache_seconds in (("cached", "300"), ("uncached", "0")):
            with gunicorn(workers, {**env, "API_CACHE_SECONDS": cache_seconds}):
                for name, url, headers in targets:
                    request = urllib.request.Request(url, headers=headers)
                    size = len(urllib.request.urlopen(request).read())
                    floor_url = f"{BASE}/bench/floor?bytes={size}"
                    results[name, mode] = size, *in_turns(url, headers, floor_url)

    print(
        f"\nmake bench-serve — gunicorn, {workers} sync workers, wrk -t2 -c8 -d{DURATION}, "
        f"{ROUNDS} runs of each endpoint in turns with its floor (medians)"
    )
    print(f"over loopback on the same {os.cpu_count()}-CPU machine; {env['DATABASE_URL']}, ")
    print(f"cache {env['REDIS_URL']}\n")
    header = (
        f"{'endpoint':34} {'API cache':9} {'bytes':>7} {'req/s':>8} {'p50 ms':>8} "
        f"{'p99 ms':>8}  {'floor req/s':>11} {'floor p50':>9} {'ratio':>6}  target ≥0.5"
    )
    print(header)
    print("-" * len(header))
    for name, _, _ in targets:
        for mode in ("cached", "uncached"):
            size, app, floor = results[name, mode]
            ratio = app["rps"] / floor["rps"]
            verdict = ("PASS" if ratio >= 0.5 else "FAIL") if mode == "cached" else "reference"
            if name.startswith("search") and mode == "uncached":
                passed = app["p50"] <= SUGGESTIONS_P50_MS
                verdict = f"p50 ≤{SUGGESTIONS_P50_MS} ms {'PASS' if passed else 'FAIL'}"
            print(
                f"{name:34} {mode:9} {size:>7} {app['rps']:>8.1f} {app['p50']:>8.1f} "
                f"{app['p99']:>8.1f}  {floor['rps']:>11.1f} {floor['p50']:>9.1f} "
                f"{ratio:>6.2f}  {verdict}"
            )
    print(
        "\nThe ratio target is for production serving, which has the shared cache (REDIS_URL);"
        "\nuncached rows show what a read costs when its answer is not kept, bound by SQL"
        "\non these two cores (`make bench` holds that work to the database's own time)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
