"""`make bench-peer` (`python -m bench.peer`): the registry's OGC API - Features service
against pygeoapi, the OGC reference implementation a partner's GIS engineer would stand
up over a PostGIS table of the same deposits. See docs/performance.md, "Against pygeoapi".

The peer gets its best case: the deposits an anonymous caller may read, copied from the
registry's own `/ogc/` answers (the one read path of a feature) into one flat PostGIS
table with a primary key on the deposit identifier (the feature id), a
`geometry(Point,4326)` column with a GiST index and a b-tree index on the name (the
registry's order), holding the feature's plain properties; nothing is computed per
request. Deposits without coordinates are copied with a null geometry, as the registry
serves them, so both count the same features.

It installs what it needs and says so: Debian's PostGIS for the local server's major
version and wrk (apt-get), and pygeoapi with its PostgreSQL provider in a virtualenv of
its own (`.bench-peer/venv`, pinned in bench/peer-requirements.txt). Both services run
under gunicorn with the same number of sync workers on loopback; every request is first
checked to answer the same `numberMatched` and the same feature ids in the same order,
then timed with wrk in turns (registry, pygeoapi, ...; medians), once with the registry's
API cache off (API_CACHE_SECONDS=0) and once as production serves (Redis cache).
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from bench import serve
from bench.run import DEFAULT_DATABASE_URL

ROOT = Path(__file__).resolve().parent.parent
PEER_DIR = ROOT / ".bench-peer"
VENV = PEER_DIR / "venv"
REQUIREMENTS = ROOT / "bench" / "peer-requirements.txt"
PEER_DATABASE = os.environ.get("BENCH_PEER_DATABASE", "registry_bench_peer")
PEER_PORT = int(os.environ.get("BENCH_PEER_PORT", str(serve.PORT + 1)))
WORKERS = int(os.environ.get("BENCH_PEER_WORKERS", "4"))
COLLECTION = "deposits"
COPY_PAGE = 2000  # features per page read from the registry to fill the peer's table
TARGETS = {"uncached": 1.5, "cached": 5.0}  # registry req/s over pygeoapi req/s, at least
# OGC API - Features Part 3: the Filter class, or Features Filter, which builds on it.
FILTER_CLASSES = (
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
)
FILTER = "status='explored'"

# The feature's properties that are plain values of the deposit (or of a record it names),
# as (property, column type). Left out: the reserve shares and `as_of`, computed for the
# day asked, and `url`, built for the host asked.
COLUMNS = [
    ("name", "text"),
    ("name_ru", "text"),
    ("name_tg", "text"),
    ("aliases", "text"),
    ("region", "text"),
    ("region_name", "text"),
    ("district", "text"),
    ("status", "text"),
    ("deposit_type", "text"),
    ("belt", "text"),
    ("exploration_level", "text"),
    ("minerals", "text"),
    ("main_minerals", "text"),
    ("associated_minerals", "text"),
    ("critical", "boolean"),
    ("main_mineral", "text"),
    ("visibility", "text"),
    ("sources", "text"),
    ("description", "text"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
]

# (row label, the items query or None for one item); the filter row only when the
# registry declares the filter conformance class.
REQUESTS = [
    ("items?limit=100", "limit=100"),
    ("items?limit=100&offset=50000", "limit=100&offset=50000"),
    ("items?bbox=68,38,70,39.5&limit=100", "bbox=68,38,70,39.5&limit=100"),
    ("items/{id}", None),
    ("items?limit=1000", "limit=1000"),
]
FILTER_REQUEST = (f"items?filter={FILTER}", "filter=" + urllib.parse.quote(FILTER))


def say(message: str) -> None:
    print(message, flush=True)


def shell(command: list[str], **kwargs) -> None:
    say("  $ " + " ".join(command))
    subprocess.run(command, check=True, **kwargs)


# --- what the benchmark installs -------------------------------------------------------


def connect(conninfo: dict, dbname: str, **kwargs):
    import psycopg

    return psycopg.connect(**{**conninfo, "dbname": dbname}, **kwargs)


def install_system_parts(conninfo: dict) -> None:
    """wrk, and PostGIS for the server's major version (Debian's package), with apt-get."""
    with connect(conninfo, "postgres", autocommit=True) as admin:
        major = int(admin.execute("SHOW server_version_num").fetchone()[0]) // 10000
        has_postgis = admin.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
        ).fetchone()
    packages = [] if has_postgis else [f"postgresql-{major}-postgis-3"]
    if shutil.which("wrk") is None:
        packages.append("wrk")
    if not packages:
        say("PostGIS and wrk are installed.")
        return
    say(f"Installing with apt-get: {', '.join(packages)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", *packages]
    try:
        shell(install, env=env, stdout=subprocess.DEVNULL)
    except subprocess.CalledProcessError:
        shell(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL)
        shell(install, env=env, stdout=subprocess.DEVNULL)


def install_peer() -> None:
    """pygeoapi and its parts in `.bench-peer/venv`, again only when the pins change."""
    stamp = VENV / ".installed"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        say(f"pygeoapi is installed in {VENV.relative_to(ROOT)} ({REQUIREMENTS.name}).")
        return
    say(f"Installing pygeoapi into {VENV.relative_to(ROOT)} from {REQUIREMENTS.name}")
    shell([sys.executable, "-m", "venv", "--clear", str(VENV)])
    pip = str(VENV / "bin" / "pip")
    shell([pip, "install", "--quiet", "--require-virtualenv", "-r", str(REQUIREMENTS)])
    stamp.write_text(wanted)


# --- the registry's database and documents ---------------------------------------------


def ensure_bench_database(env: dict, log, given: bool) -> None:
    """The `make bench` database of 100,000 synthetic deposits, made by `make bench`'s own
    code when missing (minutes); a DATABASE_URL `given` is used as it is."""
    from django.db import connection

    from bench import run

    if given:
        return
    run.use_database("postgres")
    name = env["DATABASE_URL"].rsplit("/", 1)[1]
    if not run._database_exists(name):
        log(f"{name} is missing: making it with `make bench`'s code (minutes) ...")
        run.use_database(DEFAULT_DATABASE_URL.rsplit("/", 1)[1])
        run.prepare_postgresql([10_000, 100_000], log)
    run.use_database(name)
    connection.close()


def get(url: str) -> bytes:
    """The body of a GET; a service answering an error stops the run, saying what it said."""
    try:
        with urllib.request.urlopen(url, timeout=120) as answer:
            return answer.read()
    except urllib.error.HTTPError as error:
        body = error.read()[:500].decode(errors="replace")
        raise SystemExit(f"bench-peer: {url} answered {error.code}: {body}") from error


def get_json(url: str) -> dict:
    return json.loads(get(url))


def registry_features(base: str) -> tuple[list[dict], int]:
    """Every feature an anonymous caller reads from the registry's `deposits` collection."""
    features, offset = [], 0
    while True:
        page = get_json(
            f"{base}/ogc/collections/{COLLECTION}/items?limit={COPY_PAGE}&offset={offset}"
        )
        features += page["features"]
        offset += COPY_PAGE
        if offset >= page["numberMatched"]:
            return features, page["numberMatched"]


# --- the peer --------------------------------------------------------------------------


def fill_peer_table(conninfo: dict, features: list[dict]) -> None:
    """`PEER_DATABASE` made anew, holding the features in one PostGIS table."""
    with connect(conninfo, "postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PEER_DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{PEER_DATABASE}"')
    names = ", ".join(name for name, _ in COLUMNS)
    with connect(conninfo, PEER_DATABASE, autocommit=True) as peer:
        peer.execute("CREATE EXTENSION postgis")
        peer.execute(
            f"CREATE TABLE {COLLECTION} (public_id text PRIMARY KEY, "
            + ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
            + ", geom geometry(Point, 4326))"
        )
        with peer.cursor() as cursor:
            copy_sql = f"COPY {COLLECTION} (public_id, {names}, geom) FROM STDIN"
            with cursor.copy(copy_sql) as copy:
                for feature in features:
                    geometry = feature["geometry"]
                    point = None
                    if geometry is not None:
                        longitude, latitude = geometry["coordinates"][:2]
                        point = f"SRID=4326;POINT({longitude} {latitude})"
                    properties = feature["properties"]
                    copy.write_row(
                        [feature["id"], *(properties[name] for name, _ in COLUMNS), point]
                    )
        peer.execute(f"CREATE INDEX {COLLECTION}_geom ON {COLLECTION} USING gist (geom)")
        peer.execute(f"CREATE INDEX {COLLECTION}_name ON {COLLECTION} (name)")
        peer.execute(f"VACUUM ANALYZE {COLLECTION}")


def peer_config(conninfo: dict, features: list[dict]) -> Path:
    """pygeoapi's configuration (JSON, which its YAML reader reads) and OpenAPI document,
    written at run time under `.bench-peer/`."""
    points = [f["geometry"]["coordinates"] for f in features if f["geometry"] is not None]
    bbox = [
        min((p[0] for p in points), default=-180),
        min((p[1] for p in points), default=-90),
        max((p[0] for p in points), default=180),
        max((p[1] for p in points), default=90),
    ]
    base = f"http://{serve.HOST}:{PEER_PORT}"
    config = {
        "server": {
            "bind": {"host": serve.HOST, "port": PEER_PORT},
            "url": base,
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "language": "en-US",
            "pretty_print": False,
            "limits": {"default_items": 100, "max_items": 10000},
            "map": {"url": f"{base}/no-tiles/{{z}}/{{x}}/{{y}}.png", "attribution": ""},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "Mineral deposits (make bench-peer, synthetic)",
                "description": "Synthetic deposits copied from the registry for a benchmark",
                "keywords": ["benchmark"],
                "url": base,
                "terms_of_service": base,
            },
            "license": {"name": "synthetic benchmark data", "url": base},
            "provider": {"name": "make bench-peer"},
            "contact": {"name": "make bench-peer"},
        },
        "resources": {
            COLLECTION: {
                "type": "collection",
                "title": "Mineral deposits (synthetic)",
                "description": "Public synthetic deposits",
                "keywords": ["deposits"],
                "extents": {
                    "spatial": {
                        "bbox": bbox,
                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                    }
                },
                "providers": [
                    {
                        "type": "feature",
                        "name": "PostgreSQL",
                        "data": {
                            "host": conninfo.get("host", serve.HOST),
                            "port": int(conninfo.get("port", 5432)),
                            "dbname": PEER_DATABASE,
                            "user": conninfo.get("user", "postgres"),
                            "password": conninfo.get("password", ""),
                            "search_path": ["public"],
                        },
                        "id_field": "public_id",
                        "table": COLLECTION,
                        "geom_field": "geom",
                    }
                ],
            }
        },
    }
    PEER_DIR.mkdir(exist_ok=True)
    path = PEER_DIR / "pygeoapi-config.yml"
    path.write_text(json.dumps(config, indent=2))
    openapi = PEER_DIR / "pygeoapi-openapi.yml"
    subprocess.run(
        [
            str(VENV / "bin" / "pygeoapi"),
            "openapi",
            "generate",
            str(path),
            "--output-file",
            str(openapi),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYGEOAPI_CONFIG": str(path)},
    )
    return path


def peer_env(config: Path) -> dict:
    return {
        **os.environ,
        "PYGEOAPI_CONFIG": str(config),
        "PYGEOAPI_OPENAPI": str(config.with_name("pygeoapi-openapi.yml")),
    }


# --- checking and timing ---------------------------------------------------------------


class Mismatch(SystemExit):
    pass


def ids(document: dict) -> list[str]:
    if document.get("type") == "Feature":
        return [document["id"]]
    return [feature["id"] for feature in document["features"]]


def rounded(geometry):
    if geometry is None:
        return None
    return [round(value, 6) for value in geometry["coordinates"]]


def check_same(label: str, registry: dict, peer: dict) -> None:
    """The same `numberMatched`, the same ids in the same order (and for one feature the
    same point); a loud failure otherwise."""
    problems = []
    if registry.get("numberMatched") != peer.get("numberMatched"):
        problems.append(
            f"numberMatched {registry.get('numberMatched')} (registry) != "
            f"{peer.get('numberMatched')} (pygeoapi)"
        )
    ours, theirs = ids(registry), ids(peer)
    if ours != theirs:
        detail = "the same set in another order" if set(ours) == set(theirs) else "other ids"
        first = next(
            (i for i, pair in enumerate(zip(ours, theirs, strict=False)) if pair[0] != pair[1]),
            min(len(ours), len(theirs)),
        )
        problems.append(
            f"{len(ours)} ids (registry) and {len(theirs)} (pygeoapi) differ from position "
            f"{first}: {detail}"
        )
    if registry.get("type") == "Feature" and rounded(registry["geometry"]) != rounded(
        peer["geometry"]
    ):
        problems.append(f"geometry {registry['geometry']} != {peer['geometry']}")
    if problems:
        raise Mismatch(f"bench-peer: {label} answers differently: " + "; ".join(problems))


def declares_filter(registry_base: str) -> bool:
    conformance = get_json(f"{registry_base}/ogc/conformance")["conformsTo"]
    return any(uri in conformance for uri in FILTER_CLASSES)


def plan(registry_base: str, peer_base: str, sample: str, with_filter: bool) -> list[tuple]:
    """Each request as (label, registry URL, pygeoapi URL, note), checked to answer alike.

    The registry orders features by name (the identifier breaking ties), pygeoapi by its
    `id_field` unless `sortby` is given; where the two orders differ, pygeoapi is asked
    `sortby=name` (it supports sorting, the registry does not take `sortby`)."""
    rows = []
    requests = [*REQUESTS, FILTER_REQUEST] if with_filter else REQUESTS
    for label, query in requests:
        if query is None:
            ours = f"{registry_base}/ogc/collections/{COLLECTION}/items/{sample}"
            theirs = f"{peer_base}/collections/{COLLECTION}/items/{sample}?f=json"
            check_same(label, get_json(ours), get_json(theirs))
            rows.append((label, ours, theirs, f"one public deposit, {sample}"))
            continue
        ours = f"{registry_base}/ogc/collections/{COLLECTION}/items?{query}"
        theirs = f"{peer_base}/collections/{COLLECTION}/items?{query}&f=json"
        registry_doc = get_json(ours)
        note = "pygeoapi's own order (by id) is the registry's"
        if ids(registry_doc) != ids(get_json(theirs)):
            theirs += "&sortby=name"
            note = "pygeoapi asked sortby=name, the registry's order"
        check_same(label, registry_doc, get_json(theirs))
        rows.append((label, ours, theirs, note))
    return rows


def measure(rows: list[tuple]) -> dict:
    results = {}
    for label, ours, theirs, _note in rows:
        sizes = len(get(ours)), len(get(theirs))
        say(f"  {label}")
        registry, peer = serve.in_turns(ours, {}, theirs)
        results[label] = registry["rps"], peer["rps"], sizes
    return results


def uptime() -> str:
    # UTC, as `date` shows it: Django sets TZ to the registry's zone in this process.
    return subprocess.run(
        ["uptime"], capture_output=True, text=True, env={**os.environ, "TZ": "UTC"}
    ).stdout.strip()


def report(rows, results, with_filter: bool) -> None:
    say(
        f"\nmake bench-peer — the registry's /ogc/ and pygeoapi, each under gunicorn with "
        f"{WORKERS} sync workers on loopback, wrk -t2 -c8 -d{serve.DURATION}, {serve.ROUNDS} "
        f"runs of each in turns (medians), on {os.cpu_count()} CPUs"
    )
    header = (
        f"{'request':40} {'registry cache':14} {'registry req/s':>14} {'pygeoapi req/s':>14} "
        f"{'ratio':>6} {'bytes registry':>14} {'bytes pygeoapi':>14}  target"
    )
    say(header)
    say("-" * len(header))
    for label, *_ in rows:
        for mode, target in TARGETS.items():
            registry, peer, (ours, theirs) = results[mode][label]
            ratio = registry / peer
            verdict = "PASS" if ratio >= target else "FAIL"
            say(
                f"{label[:40]:40} {mode:14} {registry:>14.1f} {peer:>14.1f} {ratio:>6.2f} "
                f"{ours:>14} {theirs:>14}  ≥{target:g}× {verdict}"
            )
    say("")
    for label, _ours, _theirs, note in rows:
        if note:
            say(f"{label}: {note}")
    if not with_filter:
        say(
            "items?filter=: left out, the registry's /ogc/conformance declares neither "
            + " nor ".join(FILTER_CLASSES)
        )
    say(
        "pygeoapi has no answer cache; its 'cached' figures are measured again beside the "
        "registry's cached ones."
    )


def main() -> int:
    from psycopg.conninfo import conninfo_to_dict

    given = "DATABASE_URL" in os.environ
    env = serve.serving_env()
    conninfo = conninfo_to_dict(env["DATABASE_URL"])
    conninfo.pop("dbname", None)
    say(f"make bench-peer; load before: {uptime()}")
    install_system_parts(conninfo)
    install_peer()
    serve.set_up_django(env)
    ensure_bench_database(env, say, given)
    serve.forget_cached_answers()

    registry_base = f"http://{serve.HOST}:{serve.PORT}"
    peer_base = f"http://{serve.HOST}:{PEER_PORT}"
    uncached = {**env, "API_CACHE_SECONDS": "0"}
    cached = {**env, "API_CACHE_SECONDS": os.environ.get("API_CACHE_SECONDS", "300")}
    with serve.gunicorn(WORKERS, uncached):
        say(f"Reading the anonymous caller's features from the registry ({env['DATABASE_URL']})")
        features, matched = registry_features(registry_base)
        located = sum(1 for f in features if f["geometry"] is not None)
        if len(features) != matched:
            raise Mismatch(f"bench-peer: read {len(features)} features of {matched}")
        say(
            f"The peer's table: {PEER_DATABASE}.{COLLECTION}, {matched:,} deposits "
            f"({matched - located:,} without coordinates, null geometry), primary key "
            "public_id, geometry(Point,4326) with a GiST index, a b-tree index on name"
        )
        fill_peer_table(conninfo, features)
        with_filter = declares_filter(registry_base)
    config = peer_config(conninfo, features)
    sample = features[len(features) // 2]["id"]
    results = {}
    peer = serve.gunicorn(
        WORKERS,
        peer_env(config),
        app="pygeoapi.flask_app:APP",
        port=PEER_PORT,
        executable=str(VENV / "bin" / "gunicorn"),
        ready="/conformance?f=json",
    )
    with peer:
        for mode, registry_env in (("uncached", uncached), ("cached", cached)):
            with serve.gunicorn(WORKERS, registry_env):
                say(f"Checking both answer the same numberMatched and ids (registry {mode}) ...")
                rows = plan(registry_base, peer_base, sample, with_filter)
                say(
                    f"Timing (registry {mode}, "
                    f"API_CACHE_SECONDS={registry_env['API_CACHE_SECONDS']}):"
                )
                results[mode] = measure(rows)
    report(rows, results, with_filter)
    say(f"load after: {uptime()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
