"""`make bench` (`python -m bench`): generate synthetic registries of 10,000 and
100,000 deposits on PostgreSQL, time each operation against the same work in bare
SQL, and print one table.

Databases: DATABASE_URL (default: `registry_bench` on the local server, created when
missing) holds the first size; each larger size lives in a copy named after it
(`registry_bench_100k`), made from the previous one and topped up. A database whose
synthetic deposit count already matches is reused, so a second run skips generation.
Without a database named, a run of other sizes than 10,000 first (`--sizes 100000`)
keeps that size in its own named database too, so it neither grows nor shrinks the
default run's.
"""

import argparse
import os
import platform
import resource
import sys
import time
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/registry_bench"
DEFAULT_SIZES = [10_000, 100_000]
ADMIN_QUERY_BOUND = 15  # the admin changelist; tests/test_deposits_admin.py pins it


def configure_environment(database_url: str | None) -> None:
    """Production-like settings for this process (DEBUG off: no query log kept in memory)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    # The benchmark is one anonymous caller asking far more often than a person would.
    os.environ["API_THROTTLE_ANON"] = "1000000000/minute"
    os.environ["API_THROTTLE_KEY"] = "1000000000/minute"
    os.environ["DATABASE_URL"] = database_url or os.environ.get(
        "DATABASE_URL", DEFAULT_DATABASE_URL
    )


# --- databases -------------------------------------------------------------------------


def _admin_sql(statement: str) -> None:
    """Run a statement on the server's maintenance database (CREATE/DROP DATABASE)."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(statement)


def _database_exists(name: str) -> bool:
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()


def use_database(name: str) -> None:
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def synthetic_count() -> int:
    from deposits.models import Deposit

    return Deposit.objects.filter(name__startswith="SYN-").count()


def refuse_real_records() -> None:
    from reports import synthetic

    if synthetic.holds_real_records():
        raise SystemExit(
            "bench: this database holds real registry records; give a dedicated one in "
            "DATABASE_URL (the default is registry_bench on the local server)."
        )


def top_up(size: int, log) -> None:
    """Add synthetic deposits until there are `size` of them, then refresh the planner's
    statistics (autovacuum would, later) so plans are those of a settled database."""
    from reports import synthetic

    have = synthetic_count()
    if have < size:
        log(f"generating {size - have:,} synthetic deposits (to {size:,}) ...")
        started = time.perf_counter()
        synthetic.generate(size - have, seed=size)
        log(f"  done in {time.perf_counter() - started:.0f} s")
        vacuum()


def vacuum(models=None) -> None:
    """VACUUM ANALYZE the models' tables (the whole database without models), as
    autovacuum would later: on PostgreSQL, outside a transaction only."""
    from django.db import connection

    from kernel.planner import tables_of

    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    quote = connection.ops.quote_name
    statements = (
        ["VACUUM ANALYZE"]
        if models is None
        else [f"VACUUM ANALYZE {quote(table)}" for table in tables_of(models)]
    )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def database_names(base: str, sizes: list[int]) -> list[str]:
    """The database of each size (see module doc): `base` for the first, the others named
    after their size; the default database only ever for the default first size."""
    names = [f"{base}_{size // 1000}k" for size in sizes]
    if base != DEFAULT_DATABASE_URL.rsplit("/", 1)[1] or sizes[0] == DEFAULT_SIZES[0]:
        names[0] = base
    return names


def prepare_postgresql(sizes: list[int], log) -> list[str]:
    """One database per size, each reused when its count already matches (see module doc)."""
    from django.core.management import call_command
    from django.db import connection

    names = database_names(connection.settings_dict["NAME"], sizes)
    previous = None
    for name, size in zip(names, sizes, strict=True):
        use_database("postgres")
        if _database_exists(name):
            use_database(name)
            call_command("migrate", verbosity=0)
            refuse_real_records()
            count = synthetic_count()
            if count == size:
                log(f"{name}: {size:,} deposits already there, reused")
                previous = name
                continue
            use_database("postgres")
            if previous is None and count < size:
                use_database(name)  # the first size: top it up in place
                top_up(size, log)
                previous = name
                continue
            log(f"{name}: {count:,} deposits, not {size:,}; made again")
            _admin_sql(f'DROP DATABASE "{name}"')
        if previous is None:
            _admin_sql(f'CREATE DATABASE "{name}"')
        else:
            log(f"{name}: copied from {previous}")
            _admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{previous}"')
        use_database(name)
        call_command("migrate", verbosity=0)
        top_up(size, log)
        previous = name
    return names


# --- measuring -------------------------------------------------------------------------


@dataclass
class Row:
    size: int
    name: str
    target: str
    median: float
    p95: float
    sql: float | None
    beside: float | None  # the median of `Operation.beside`, timed in turns with this one
    queries: int
    memory: int
    beside_queries: int = 0
    paged: bool = False
    exports: bool = False
    ratio: float | None = None
    verdict: str = ""
    growth: str = ""
    note: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)


def measure_size(size: int, repeat: int, budget: float, report: Report, log, only="") -> None:
    from bench import operations, partners

    def wanted(name: str) -> bool:
        return only.casefold() in name.casefold()

    measure_operations(
        size, [op for op in operations.operations() if wanted(op.name)], repeat, budget, report, log
    )
    if any(wanted(name) for name in operations.PARTNER_OPERATIONS):
        log(f"  {size:,}: making two partners, one with {partners.GRANTS} clauses in force ...")
        started = time.perf_counter()
        sample_pk, _ = operations.sample_deposit()
        with partners.keys(sample_pk) as (without_clauses, with_clauses):
            log(f"  done in {time.perf_counter() - started:.0f} s")
            selected = [
                op
                for op in operations.partner_operations(without_clauses, with_clauses)
                if wanted(op.name)
            ]
            measure_operations(size, selected, repeat, budget, report, log)


def measure_operations(size, selected, repeat, budget, report: Report, log) -> None:
    from bench.measure import time_alternately

    for op in selected:
        times = repeat if not op.exports else max(1, min(repeat, 3))
        log(f"  {size:,}: {op.name.strip()}")
        references = [work for work in (op.database, op.beside) if work is not None]
        app, *timings = time_alternately([op.app, *references], times, budget, not op.exports)
        database = timings.pop(0) if op.database else None
        beside = timings.pop(0) if op.beside else None
        report.rows.append(
            Row(
                size=size,
                name=op.name,
                target=op.target,
                median=app.median,
                p95=app.p95,
                sql=database.median if database else None,
                beside=beside.median if beside else None,
                queries=app.queries,
                beside_queries=beside.queries if beside else 0,
                memory=app.memory,
                paged=op.paged,
                exports=op.exports,
            )
        )


def measure_import(size: int, rows: int, report: Report, log) -> None:
    from bench import operations
    from bench.measure import time_runs

    log(f"  {size:,}: spreadsheet import of {rows:,} rows (rolled back afterwards)")
    outcome = {}

    def work():
        outcome["imported"], outcome["history"] = operations.spreadsheet_import(rows)

    timing = time_runs(work, 1, 0, warm=False)
    report.rows.append(
        Row(
            size=size,
            name=f"spreadsheet import, {rows:,} rows",
            target="reported",
            median=timing.median,
            p95=timing.p95,
            sql=None,
            beside=None,
            queries=timing.queries,
            memory=timing.memory,
            note=f"{outcome['imported']:,} created, {outcome['history']:,} history records",
        )
    )


def judge(report: Report) -> None:
    """Ratios, PASS/FAIL against each target, and growth against the first size."""
    first = {}
    for row in report.rows:
        first.setdefault(row.name, row)
    for row in report.rows:
        if row.target == "reported":
            row.verdict = "reported"
        elif row.target == "queries":
            base = first[row.name]
            ok = row.queries <= ADMIN_QUERY_BOUND and row.queries == base.queries
            row.verdict = f"≤{ADMIN_QUERY_BOUND} q, flat {'PASS' if ok else 'FAIL'}"
        elif row.target == "1.5 api":
            row.ratio = row.median / row.beside
            row.verdict = f"≤1.5× API {'PASS' if row.ratio <= 1.5 else 'FAIL'}"
        elif row.target == "1.2 partner":
            row.ratio = row.median / row.beside
            row.verdict = f"≤1.2× no grants {'PASS' if row.ratio <= 1.2 else 'FAIL'}"
            row.note = f"without grants {row.beside * 1000:.1f} ms, {row.beside_queries} q"
        elif row.sql:
            row.ratio = row.median / row.sql
            limit = float(row.target)
            row.verdict = f"≤{row.target}× SQL {'PASS' if row.ratio <= limit else 'FAIL'}"
        else:
            row.verdict = "no SQL (not PostgreSQL)"
        base = first[row.name]
        if base is not row:
            if row.paged:
                growth = row.median / base.median
                row.growth = f"time ×{growth:.2f} ≤2 {'PASS' if growth <= 2 else 'FAIL'}"
            elif row.exports:
                growth = row.memory / max(base.memory, 1 << 20)
                row.growth = f"mem ×{growth:.2f} ≤2 {'PASS' if growth <= 2 else 'FAIL'}"


def table(report: Report) -> str:
    header = (
        f"{'deposits':>8}  {'operation':38} {'median ms':>10} {'p95 ms':>9} {'SQL ms':>8} "
        f"{'ratio':>6}  {'target / result':26} {'queries':>7} {'mem MB':>7}  "
        f"{'vs first size':24}"
    )
    lines = [header, "-" * len(header)]
    for r in report.rows:
        lines.append(
            f"{r.size:>8,}  {r.name[:38]:38} {r.median * 1000:>10.1f} {r.p95 * 1000:>9.1f} "
            f"{'' if r.sql is None else f'{r.sql * 1000:.1f}':>8} "
            f"{'' if r.ratio is None else f'{r.ratio:.2f}':>6}  {r.verdict:26} "
            f"{r.queries:>7} {r.memory / 2**20:>7.1f}  {r.growth or r.note}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    lines.append("-" * len(header))
    lines.append(
        f"peak memory of the process: {peak:.0f} MB; mem MB = resident memory one run of the "
        f"operation added; wall time {time.perf_counter() - report.started:.0f} s"
    )
    return "\n".join(lines)


def machine() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            database = "PostgreSQL " + cursor.fetchone()[0]
        else:
            database = f"{connection.vendor} {connection.Database.sqlite_version}"
    try:
        with open("/proc/meminfo") as meminfo:
            memory = int(meminfo.readline().split()[1]) / 2**20
    except OSError:
        memory = 0
    return (
        f"{os.cpu_count()} CPUs, {memory:.0f} GB RAM, {database}, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M %Z')}"
    )


def run(sizes, repeat, budget, import_rows, log, prepare=True, only="") -> Report:
    """Measure every size; with `prepare` (PostgreSQL), each size in its own database."""
    from django.db import connection

    report = Report()
    pg = connection.vendor == "postgresql"
    names = prepare_postgresql(sizes, log) if (pg and prepare) else [None] * len(sizes)
    for size, name in zip(sizes, names, strict=True):
        if name is not None:
            use_database(name)
        else:
            top_up(size, log)
        measure_size(size, repeat, budget, report, log, only)
    if import_rows:
        measure_import(sizes[-1], import_rows, report, log)
    judge(report)
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="deposit counts, ascending"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per operation")
    parser.add_argument("--budget", type=float, default=30, help="seconds per operation, at most")
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--only", default="", help="operations whose name contains this")
    parser.add_argument("--database-url", help=f"default: DATABASE_URL or {DEFAULT_DATABASE_URL}")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))

    configure_environment(args.database_url)
    import registry.wsgi  # noqa: F401  the application loaded as gunicorn loads it

    def log(message):
        print(message, file=sys.stderr, flush=True)

    from django.core.management import call_command

    # DEBUG is off: pages name their static files through the manifest, as `make serve`.
    call_command("collectstatic", interactive=False, verbosity=0)
    report = run(sizes, args.repeat, args.budget, args.import_rows, log, only=args.only)
    print(
        f"\nmake bench — {machine()}; Django test Client in-process, anonymous caller "
        "(partner rows: partner keys)\n"
    )
    print(table(report))
    return 0
