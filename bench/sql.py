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
from deposits.querysets import document_estimates
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
        .annotate(
            code=F("mineral__code"), mineral_name=F("mineral__name"),
            critical=F("mineral__is_critical"),
        )
        .values(
            "code", "mineral_name", "critical", "role", "share_pct", "share_basis",
            "share_scope", "share_bound", "reported_share_pct", "reported_share_bound",
            "reported_share_source",
        )
    )  # fmt: skip
    # The share comes unrounded (the app rounds it half up as it reads it; PostgreSQL's
    # round() does the same on numerics, so the statements below round it there).
    return f"FROM ({compiled(rows)}) c"


# What a reserve estimate's document carries beside its identifier and mineral.
ESTIMATE_COLUMNS = [
    *(name for name in ReserveEstimate.FIGURES if name != "mineral"),
    *ReserveEstimate.STANDING,
]
_TEXT = {"quantity", "ore_tonnage", "grade"}  # decimals the API writes as strings


@cache
def estimates(on: datetime.date | None = None) -> str:
    """FROM: the estimates `e` of deposit `d` its document lists (as of `on`), each flagged
    `in_force` by the app's rule (`deposits.querysets.document_estimates`)."""
    rows = (
        document_estimates(on, ANONYMOUS)
        .filter(deposit_id=RawSQL("d.id", []))
        .annotate(code=F("mineral__code"), mineral_name=F("mineral__name"))
        .order_by()
        .values("pk", "public_id", "code", "mineral_name", *ESTIMATE_COLUMNS, "in_force")
    )
    return f"FROM ({compiled(rows)}) e"


def deposit(on: datetime.date | None = None) -> str:
    """A deposit's document: every field of the API's, its minerals with their shares and
    the estimates recorded (as of `on`), each flagged in force."""
    estimate = ", ".join(
        f"'{name}', e.{name}{'::text' if name in _TEXT else ''}" for name in ESTIMATE_COLUMNS
    )
    return f"""json_build_object(
    'id', d.public_id, 'name', d.name, 'name_ru', d.name_ru, 'name_tg', d.name_tg,
    'aliases', d.aliases, 'region', r.code, 'district', di.code,
    'latitude', d.latitude, 'longitude', d.longitude,
    'status', d.status, 'deposit_type', d.deposit_type, 'belt', b.code,
    'exploration_level', d.exploration_level, 'description', d.description,
    'description_ru', d.description_ru, 'description_tg', d.description_tg,
    'visibility', d.visibility,
    'commodities', coalesce((SELECT json_agg(json_build_object(
            'mineral', c.code, 'role', c.role, 'reserve_share_pct', round(c.share_pct, 2)::text,
            'share_basis', c.share_basis, 'share_scope', c.share_scope,
            'share_bound', c.share_bound, 'reported_share_pct', c.reported_share_pct::text,
            'reported_share_bound', c.reported_share_bound,
            'reported_share_source', c.reported_share_source))
        {commodities(on)}), '[]'),
    'reserves', coalesce((SELECT json_agg(json_build_object(
            'id', e.public_id, 'mineral', e.code, {estimate}, 'in_force', e.in_force)
            ORDER BY e.mineral_name, e.category, e.as_of DESC NULLS LAST, e.pk)
        {estimates(on)}), '[]'),
    'sources', d.sources, 'created_at', d.created_at, 'updated_at', d.updated_at)"""


def _share_text(label: str) -> str:
    """A share as `deposits.shares.share_text` writes it, of minerals row `c`."""
    return f"""{label} || ' ' || coalesce(c.share_bound || ' ', '')
        || round(c.share_pct, 2)::text || '%% ('
        || c.share_basis || coalesce(' over ' || c.share_scope, '') || ')'"""


def feature() -> str:
    """A deposit as a feature of the GeoJSON export: its minerals as a list."""
    return f"""json_build_object(
    'type', 'Feature', 'id', d.public_id,
    'geometry', CASE WHEN d.longitude IS NULL OR d.latitude IS NULL THEN NULL
        ELSE json_build_object('type', 'Point', 'coordinates',
            json_build_array(d.longitude::float8, d.latitude::float8)) END,
    'properties', json_build_object(
        'id', d.public_id, 'name', d.name, 'name_ru', d.name_ru, 'name_tg', d.name_tg,
        'aliases', d.aliases, 'region', r.code,
        'district', di.code, 'status', nullif(d.status, ''),
        'deposit_type', nullif(d.deposit_type, ''), 'belt', b.code,
        'exploration_level', nullif(d.exploration_level, ''), 'visibility', d.visibility,
        'commodities', coalesce((SELECT json_agg(json_build_object(
                'mineral', c.code, 'role', c.role, 'reserve_share_pct', round(c.share_pct, 2)::text,
                'share_basis', c.share_basis, 'share_scope', c.share_scope,
                'share_bound', c.share_bound))
            {commodities()}), '[]'),
        'updated_at', d.updated_at))"""


def ogc_feature() -> str:
    """A deposit as an OGC API feature: flat properties, its minerals joined into text
    columns and its main mineral's share a number (`deposits.ogc.documents.feature`); of
    the deposit `d` and its minerals `m` (`ogc_minerals`)."""
    return """json_build_object(
    'type', 'Feature', 'id', d.public_id,
    'geometry', CASE WHEN d.longitude IS NULL OR d.latitude IS NULL THEN NULL
        ELSE json_build_object('type', 'Point', 'coordinates',
            json_build_array(d.longitude::float8, d.latitude::float8)) END,
    'properties', json_build_object(
        'name', d.name, 'name_ru', d.name_ru, 'name_tg', d.name_tg,
        'aliases', array_to_string(ARRAY(SELECT jsonb_array_elements_text(d.aliases::jsonb)), '; '),
        'region', r.code, 'region_name', r.name, 'district', di.name,
        'status', nullif(d.status, ''), 'deposit_type', nullif(d.deposit_type, ''),
        'belt', b.name, 'exploration_level', nullif(d.exploration_level, ''),
        'minerals', m.minerals, 'main_minerals', m.main_minerals,
        'associated_minerals', m.associated_minerals, 'critical', coalesce(m.critical, false),
        'main_mineral', m.main_mineral, 'main_share_pct', m.main_share_pct,
        'main_share_basis', m.main_share_basis, 'main_share_scope', m.main_share_scope,
        'main_share_bound', m.main_share_bound, 'reserve_shares', m.reserve_shares,
        'as_of', current_date,
        'visibility', d.visibility,
        'sources', array_to_string(ARRAY(SELECT jsonb_array_elements_text(d.sources::jsonb)), '; '),
        'description', d.description, 'url', '/deposits/' || d.public_id || '/',
        'created_at', d.created_at, 'updated_at', d.updated_at))"""


def ogc_minerals() -> str:
    """The minerals of deposit `d` as the OGC feature's columns, aggregated once."""
    main = "(array_agg(c.{} ORDER BY c.mineral_name) FILTER (WHERE c.role = 'main'))[1]"
    return f"""LEFT JOIN LATERAL (SELECT
        string_agg(c.code, ', ') AS minerals,
        string_agg(c.code, ', ') FILTER (WHERE c.role = 'main') AS main_minerals,
        string_agg(c.code, ', ') FILTER (WHERE c.role = 'associated') AS associated_minerals,
        bool_or(c.critical) AS critical,
        {main.format("code")} AS main_mineral,
        {main.format("share_pct")}::float8 AS main_share_pct,
        {main.format("share_basis")} AS main_share_basis,
        {main.format("share_scope")} AS main_share_scope,
        {main.format("share_bound")} AS main_share_bound,
        string_agg({_share_text("c.code")}, '; ') FILTER (WHERE c.share_pct IS NOT NULL)
            AS reserve_shares
    {commodities()}) m ON true"""


# The visibility of an anonymous caller, and the filters the benchmark uses.
PUBLIC = "d.visibility = 'public'"
MINERAL = """d.id IN (SELECT c.deposit_id FROM deposits_depositcommodity c
    JOIN deposits_mineral m ON m.id = c.mineral_id WHERE m.code = %(mineral)s)"""
SEARCH = "(d.search_text LIKE %(pattern)s OR upper(d.public_id) = upper(%(needle)s))"


def _fetch_text(sql: str, params: dict) -> str:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0] or ""


def page(where: str, params: dict, limit: int, document=deposit, joined: str = "") -> str:
    """A page of deposits with the count of all matches, as the API's JSON; `joined` adds
    what a document reads beside the deposit and its region, district and belt."""
    sql = f"""WITH page AS (SELECT * FROM deposits_deposit d WHERE {where}
             ORDER BY d.name, d.id LIMIT {int(limit)})
    SELECT json_build_object(
        'count', (SELECT count(*) FROM deposits_deposit d WHERE {where}),
        'results', coalesce((SELECT json_agg({document()} ORDER BY d.name, d.id)
                             FROM page d {RELATED} {joined}), '[]'))::text"""
    return _fetch_text(sql, params)


def ogc_page(where: str, params: dict, limit: int) -> str:
    """A page of OGC features with the count of all matches."""
    return page(where, params, limit, document=ogc_feature, joined=ogc_minerals())


def _named(kind: str, source: str, key: str, label: str, url: str, names: list[str]) -> str:
    """The records of one kind (`source`: its table as `x`, and what it joins) whose names
    hold the query (`%(name)s`, lower case), as the search endpoint's suggestions."""
    matched = " OR ".join(f"lower(x.{name}) LIKE %(name)s" for name in names)
    return f"""SELECT '{kind}' AS kind, {key} AS id, x.{label} AS label, {url} AS url,
        100 - length(x.{label}) AS score FROM {source} WHERE ({matched})"""


def suggestions(where: str, params: dict, limit: int) -> str:
    """What the search endpoint suggests: the deposits matching (`where`, shortest names
    first: a name the query is most of ranks first), and the minerals, regions,
    districts, organisations and public events whose names hold the query, best first,
    as JSON (kind, id, label, url, score). The endpoint ranks every kind by the name
    matcher; here each kind is one indexed or small-table read, the same question asked
    of the database alone."""
    deposits = f"""SELECT 'deposit' AS kind, d.public_id AS id, d.name AS label,
        '/deposits/' || d.public_id || '/' AS url, 100 - length(d.name) AS score
        FROM deposits_deposit d WHERE {where} ORDER BY length(d.name), d.name
        LIMIT {int(limit)}"""
    translated = ["name", "name_ru", "name_tg"]
    kinds = [
        _named("mineral", "deposits_mineral x", "x.code", "name",
               "'/minerals/' || x.code || '/'", [*translated, "code", "symbol"]),
        _named("region", "deposits_region x", "x.code", "name",
               "'/regions/' || x.code || '/'", translated),
        _named("district", "deposits_district x JOIN deposits_region r ON r.id = x.region_id",
               "x.code", "name", "'/regions/' || r.code || '/'", translated),
        _named("organisation", "cooperation_organisation x", "x.public_id", "name",
               "'/cooperation/organisations/' || x.public_id || '/'",
               [*translated, "name_native", "acronym"]),
        _named("event", "cooperation_event x", "x.public_id", "title",
               "'/cooperation/events/' || x.public_id || '/'", ["title", "title_ru", "title_tg"])
        + " AND x.visibility = 'public'",
    ]  # fmt: skip
    union = " UNION ALL ".join(f"({part})" for part in [deposits, *kinds])
    sql = f"""SELECT coalesce(json_agg(json_build_object('kind', s.kind, 'id', s.id,
        'label', s.label, 'url', s.url, 'score', s.score)), '[]')::text
        FROM ({union} ORDER BY score DESC, kind LIMIT {int(limit)}) s"""
    return _fetch_text(sql, {**params, "name": f"%{params['needle'].lower()}%"})


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


CSV_COLUMNS = """d.public_id, d.name, d.name_ru, d.name_tg, array_to_string(ARRAY(
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
        string_agg({_share_text("c.mineral_name")}, '; ') AS shares
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
