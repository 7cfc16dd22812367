"""The database's own time for each operation: one PostgreSQL statement that returns the
same document (JSON built with json_build_object/json_agg, CSV with COPY).

Each statement does the work the app does: the same filter, order and page, the
related region, district, belt, minerals and estimates, and the reserve shares. The
shares are not written again here: the statements embed the SQL that Django compiles
from the app's own rule (`deposits.shares.commodities_with_shares`), so the reference
and the app cannot compute different figures.
"""

import datetime
from functools import cache

from django.db import connection
from django.db.models import Count, F, Sum
from django.db.models.expressions import RawSQL

from deposits import shares
from deposits.api.stats import RANKED_FIELDS
from deposits.models import DepositCommodity, ReserveEstimate
from deposits.shares import commodities_with_shares
from kernel.visibility import ANONYMOUS

RELATED = """LEFT JOIN deposits_region r ON r.id = d.region_id
    LEFT JOIN deposits_district di ON di.id = d.district_id
    LEFT JOIN deposits_metallogenicbelt b ON b.id = d.belt_id"""


def compiled(queryset) -> str:
    """A queryset's SQL with its parameters written in, for an outer statement that takes
    %(name)s parameters (a literal % doubled)."""
    sql, params = queryset.query.sql_with_params()
    return connection.ops.compose_sql(sql, params).replace("%", "%%")


@cache
def commodities(on: datetime.date | None = None) -> str:
    """FROM: the minerals `c` of deposit `d`, each with its share (as of `on`), by the app's
    rule and in its order (main first), compiled by Django with the parameters written in."""
    rows = (
        commodities_with_shares(ANONYMOUS, on)
        .filter(deposit_id=RawSQL("d.id", []))
        .annotate(code=F("mineral__code"), mineral_name=F("mineral__name"))
        .values(
            "code", "mineral_name", "role", "share_pct", "share_basis",
            "reported_share_pct", "reported_share_source",
        )
    )  # fmt: skip
    # The share comes unrounded (the app rounds it half up as it reads it; PostgreSQL's
    # round() does the same on numerics, so the statements below round it there).
    return f"FROM ({compiled(rows)}) c"


@cache
def in_force_of_deposit(on: datetime.date):
    """The estimates of deposit `d` in force on `on`, by the app's rule."""
    return ReserveEstimate.objects.in_force(on).filter(deposit_id=RawSQL("d.id", [])).values("pk")


def deposit(on: datetime.date | None = None) -> str:
    """A deposit's document; as of `on`, its shares and the estimates in force then."""
    in_force = f"AND e.id IN ({compiled(in_force_of_deposit(on))})" if on else ""
    return f"""json_build_object(
    'id', d.public_id, 'name', d.name, 'aliases', d.aliases, 'region', r.code,
    'district', di.code, 'latitude', d.latitude, 'longitude', d.longitude,
    'status', d.status, 'deposit_type', d.deposit_type, 'belt', b.code,
    'exploration_level', d.exploration_level, 'description', d.description,
    'visibility', d.visibility,
    'commodities', coalesce((SELECT json_agg(json_build_object(
            'mineral', c.code, 'role', c.role, 'reserve_share_pct', round(c.share_pct, 2)::text,
            'share_basis', c.share_basis, 'reported_share_pct', c.reported_share_pct::text,
            'reported_share_source', c.reported_share_source))
        {commodities(on)}), '[]'),
    'reserves', coalesce((SELECT json_agg(json_build_object(
            'id', e.public_id, 'mineral', em.code, 'category', e.category,
            'balance', e.balance, 'quantity', e.quantity::text, 'unit', e.unit,
            'ore_tonnage', e.ore_tonnage::text, 'grade', e.grade::text,
            'grade_unit', e.grade_unit, 'as_of', e.as_of,
            'as_of_precision', e.as_of_precision, 'approved_by', e.approved_by,
            'protocol', e.protocol, 'source', e.source)
            ORDER BY em.name, e.category, e.as_of DESC)
        FROM deposits_reserveestimate e JOIN deposits_mineral em ON em.id = e.mineral_id
        WHERE e.deposit_id = d.id {in_force}), '[]'),
    'sources', d.sources, 'created_at', d.created_at, 'updated_at', d.updated_at)"""


def feature() -> str:
    return f"""json_build_object(
    'type', 'Feature', 'id', d.public_id,
    'geometry', CASE WHEN d.longitude IS NULL OR d.latitude IS NULL THEN NULL
        ELSE json_build_object('type', 'Point', 'coordinates',
            json_build_array(d.longitude::float8, d.latitude::float8)) END,
    'properties', json_build_object(
        'id', d.public_id, 'name', d.name, 'aliases', d.aliases, 'region', r.code,
        'district', di.code, 'status', nullif(d.status, ''),
        'deposit_type', nullif(d.deposit_type, ''), 'belt', b.code,
        'exploration_level', nullif(d.exploration_level, ''), 'visibility', d.visibility,
        'commodities', coalesce((SELECT json_agg(json_build_object(
                'mineral', c.code, 'role', c.role, 'reserve_share_pct', round(c.share_pct, 2)::text,
                'share_basis', c.share_basis))
            {commodities()}), '[]'),
        'updated_at', d.updated_at))"""


# The visibility of an anonymous caller, and the filters the benchmark uses.
PUBLIC = "d.visibility = 'public'"
MINERAL = """d.id IN (SELECT c.deposit_id FROM deposits_depositcommodity c
    JOIN deposits_mineral m ON m.id = c.mineral_id WHERE m.code = %(mineral)s)"""
SEARCH = "(d.search_text LIKE %(pattern)s OR upper(d.public_id) = upper(%(needle)s))"


def _fetch_text(sql: str, params: dict) -> str:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0] or ""


def page(where: str, params: dict, limit: int, document=deposit) -> str:
    """A page of deposits with the count of all matches, as the API's JSON."""
    sql = f"""WITH page AS (SELECT * FROM deposits_deposit d WHERE {where}
             ORDER BY d.name, d.id LIMIT {int(limit)})
    SELECT json_build_object(
        'count', (SELECT count(*) FROM deposits_deposit d WHERE {where}),
        'results', coalesce((SELECT json_agg({document()} ORDER BY d.name, d.id)
                             FROM page d {RELATED}), '[]'))::text"""
    return _fetch_text(sql, params)


def suggestions(where: str, params: dict, limit: int) -> str:
    """The deposits a search suggests: the matches, shortest names first (a name the
    query is most of ranks first), with identifier and name, as JSON."""
    sql = f"""SELECT coalesce(json_agg(json_build_object('id', s.public_id, 'label', s.name)),
        '[]')::text FROM (SELECT d.public_id, d.name FROM deposits_deposit d WHERE {where}
        ORDER BY length(d.name), d.name LIMIT {int(limit)}) s"""
    return _fetch_text(sql, params)


def mineral_statistics(on: datetime.date, top: int) -> str:
    """`stats/minerals/?as_of=`: each mineral's ranking and its totals per category from
    the estimates in force on `on`, the app's own queries in one statement (the national
    totals of the day, which the share rule reads first, are written into it)."""
    ranked = shares.ranked(
        DepositCommodity.objects.visible_to(ANONYMOUS), ["mineral_id"], top, ANONYMOUS, on
    ).values_list("mineral_id", "ranked_count", *RANKED_FIELDS.values())
    totals = (
        ReserveEstimate.objects.visible_to(ANONYMOUS)
        .in_force(on)
        .filter(category__in=ReserveEstimate.GKZ_CATEGORIES, quantity__isnull=False)
        .values("mineral_id", "category", "balance", "unit")
        .annotate(quantity=Sum("quantity"), deposit_count=Count("deposit", distinct=True))
    )
    sql = f"""SELECT json_build_object(
        'rankings', (SELECT json_agg(r) FROM ({compiled(ranked)}) r),
        'totals', (SELECT json_agg(t) FROM ({compiled(totals)}) t))::text"""
    return _fetch_text(sql, {})


def detail(public_id: str) -> str:
    sql = f"""SELECT {deposit()}::text FROM deposits_deposit d {RELATED}
    WHERE d.public_id = %(id)s AND {PUBLIC}"""
    return _fetch_text(sql, {"id": public_id})


def feature_collection(where: str, params: dict) -> str:
    """Every matching deposit as one GeoJSON FeatureCollection."""
    sql = f"""SELECT json_build_object('type', 'FeatureCollection',
        'features', coalesce(json_agg({feature()} ORDER BY d.name, d.id), '[]'))::text
    FROM deposits_deposit d {RELATED} WHERE {where}"""
    return _fetch_text(sql, params)


CSV_COLUMNS = """d.public_id, d.name, array_to_string(ARRAY(
        SELECT jsonb_array_elements_text(d.aliases::jsonb)), '; '),
    r.code, r.name, di.name, d.latitude, d.longitude, d.status, d.deposit_type, b.name,
    d.exploration_level, mc.main, mc.associated, mc.shares, d.visibility,
    array_to_string(ARRAY(SELECT jsonb_array_elements_text(d.sources::jsonb)), '; '),
    to_char(d.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"""


def csv_minerals() -> str:
    """The minerals of deposit `d` as the export's three columns, aggregated once."""
    return f"""LEFT JOIN LATERAL (SELECT
        string_agg(c.mineral_name, ', ') FILTER (WHERE c.role = 'main') AS main,
        string_agg(c.mineral_name, ', ') FILTER (WHERE c.role = 'associated') AS associated,
        string_agg(c.mineral_name || ' ' || round(c.share_pct, 2)::text || '%% (' || c.share_basis
            || ')', '; ') AS shares
    {commodities()}) mc ON true"""


def copy_csv(where: str) -> int:
    """`COPY (SELECT …) TO STDOUT WITH CSV` of the export's columns; the bytes received."""
    sql = f"""COPY (SELECT {CSV_COLUMNS}
        FROM deposits_deposit d {RELATED} {csv_minerals()} WHERE {where}
        ORDER BY d.name, d.id) TO STDOUT WITH CSV HEADER"""
    statement = connection.ops.compose_sql(sql, {})  # COPY takes no parameters: %% -> %
    received = 0
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for data in copy:
            received += len(data)
    return received
