"""CSV and GeoJSON exports of deposits (streamed; every filter of the list applies).

Two paths write the same documents. On PostgreSQL the database builds them: the CSV
through COPY, the GeoJSON features as JSON text, with reserve shares computed in SQL
by the rule of `deposits.services.share_of`. Elsewhere (SQLite) Python builds them
from the deposits in chunks. Tests hold the two paths to the same output.
"""

import datetime

from django.db.models import Prefetch, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from deposits.models import Deposit, DepositCommodity
from deposits.services import (
    SHARE_BASIS_SQL,
    SHARE_PCT_SQL,
    attach_reserve_shares,
    commodities_sql,
    share_estimates,
)
from kernel.api.exports import (
    batches,
    formula_safe_sql,
    point,
    stream_copy_csv,
    stream_csv,
    stream_geojson,
)
from kernel.api.prepared import built_by_database

CSV_HEADER = [
    "Identifier",
    "Name",
    "Other names",
    "Region code",
    "Region",
    "District",
    "Latitude",
    "Longitude",
    "Status",
    "Deposit type",
    "Metallogenic belt",
    "Exploration level",
    "Main minerals",
    "Associated minerals",
    "Reserve shares (% of national reserves)",
    "Visibility",
    "Sources",
    "Last updated (UTC)",
]


def _minerals(deposit, role) -> str:
    return ", ".join(c.mineral.name for c in deposit.commodities.all() if c.role == role)


def _shares(deposit) -> str:
    return "; ".join(
        f"{c.mineral.name} {c.share.pct}% ({c.share.basis})"
        for c in deposit.commodities.all()
        if c.share.pct is not None
    )


def csv_row(deposit) -> list:
    return [
        deposit.public_id,
        deposit.name,
        "; ".join(deposit.aliases),
        deposit.region.code if deposit.region else "",
        deposit.region.name if deposit.region else "",
        deposit.district.name if deposit.district else "",
        deposit.latitude,
        deposit.longitude,
        deposit.get_status_display(),
        deposit.deposit_type,
        deposit.belt.name if deposit.belt else "",
        deposit.get_exploration_level_display(),
        _minerals(deposit, DepositCommodity.Role.MAIN),
        _minerals(deposit, DepositCommodity.Role.ASSOCIATED),
        _shares(deposit),
        deposit.visibility,
        "; ".join(deposit.sources),
        deposit.updated_at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S"),
    ]


def _feature(deposit) -> dict:
    return {
        "type": "Feature",
        "id": deposit.public_id,
        "geometry": point(deposit.longitude, deposit.latitude),
        "properties": {
            "id": deposit.public_id,
            "name": deposit.name,
            "aliases": deposit.aliases,
            "region": deposit.region.code if deposit.region else None,
            "district": deposit.district.code if deposit.district else None,
            "status": deposit.status or None,
            "deposit_type": deposit.deposit_type or None,
            "belt": deposit.belt.code if deposit.belt else None,
            "exploration_level": deposit.exploration_level or None,
            "visibility": deposit.visibility,
            "commodities": [
                {
                    "mineral": c.mineral.code,
                    "role": c.role,
                    "reserve_share_pct": None if c.share.pct is None else str(c.share.pct),
                    "share_basis": c.share.basis,
                }
                for c in deposit.commodities.all()
            ],
            "updated_at": deposit.updated_at.isoformat(),
        },
    }


def records(queryset):
    """The deposits of the queryset, streamed in batches, each with its reserve shares."""
    queryset = queryset.select_related("region", "district", "belt")
    queryset = queryset.prefetch_related(None).prefetch_related(
        Prefetch("commodities", queryset=DepositCommodity.objects.select_related("mineral")),
        Prefetch("reserves", queryset=share_estimates()),
    )
    for batch in batches(queryset, prepare=attach_reserve_shares):
        yield from batch


def deposits_csv(queryset):
    statement = csv_statement(queryset) if built_by_database(queryset) else None
    if statement is not None:
        return stream_copy_csv(CSV_HEADER, *statement, "deposits", using=queryset.db)
    return stream_csv(CSV_HEADER, (csv_row(d) for d in records(queryset)), "deposits")


def deposits_geojson(queryset):
    if built_by_database(queryset):
        features = feature_texts(queryset).iterator(chunk_size=2000)
    else:
        features = (_feature(d) for d in records(queryset))
    return stream_geojson(features, "deposits")


# --- PostgreSQL: the same documents built by the database --------------------------------

# The commodities of the exported deposit, in the order of DepositCommodity.Meta
# (main minerals first).
_COMMODITIES = commodities_sql("deposits_deposit.id")
_ORDER = "ORDER BY c.role DESC, m.name, m.code"


# The order of the exported rows, as the list's filters may ask for it (OrderingFilter of
# DepositFilterSet, the model's default ordering, the primary key as tiebreaker).
_ORDER_COLUMNS = {
    "name": "deposits_deposit.name",
    "updated_at": "deposits_deposit.updated_at",
    "region__code": "r.code",
    "pk": "deposits_deposit.id",
    "id": "deposits_deposit.id",
}


def _order_by_sql(queryset) -> str | None:
    """The queryset's ORDER BY over the CSV statement's tables; None for another order."""
    query = queryset.query
    ordering = list(query.order_by) or (Deposit._meta.ordering if query.default_ordering else [])
    terms = []
    for term in ordering:
        if not isinstance(term, str) or term.lstrip("-") not in _ORDER_COLUMNS:
            return None
        column = _ORDER_COLUMNS[term.lstrip("-")]
        terms.append(f"{column} DESC" if term.startswith("-") else column)
    return ", ".join(terms) or "deposits_deposit.id"


def _label_sql(column: str, choices) -> tuple[str, list]:
    """The display label of a choice in the active language (`get_FOO_display`)."""
    whens = " ".join("WHEN %s THEN %s" for _ in choices)
    params = [str(part) for choice in choices for part in choice]
    return f"CASE {column} {whens} ELSE {column} END", params


def joined_sql(column: str) -> str:
    """A JSON list of strings as "a; b" (aliases, sources)."""
    return f"array_to_string(ARRAY(SELECT jsonb_array_elements_text({column})), '; ')"


def csv_statement(queryset) -> tuple[str, list] | None:
    """`csv_row` of every deposit of the queryset, in its order, as one SELECT whose cells
    are formula-safe text; None when the queryset is ordered in a way it does not know."""
    order_by = _order_by_sql(queryset)
    if order_by is None:
        return None
    chosen, chosen_params = queryset.order_by().values("pk").query.sql_with_params()
    status, status_params = _label_sql("deposits_deposit.status", Deposit.Status.choices)
    level, level_params = _label_sql(
        "deposits_deposit.exploration_level", Deposit.ExplorationLevel.choices
    )
    cells = [
        "deposits_deposit.public_id",
        "deposits_deposit.name",
        joined_sql("deposits_deposit.aliases"),
        "r.code",
        "r.name",
        "di.name",
        "deposits_deposit.latitude",
        "deposits_deposit.longitude",
        status,
        "deposits_deposit.deposit_type",
        "b.name",
        level,
        "minerals.main",
        "minerals.associated",
        "minerals.shares",
        "deposits_deposit.visibility",
        joined_sql("deposits_deposit.sources"),
        "to_char(deposits_deposit.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')",
    ]
    sql = f"""SELECT {", ".join(formula_safe_sql(cell) for cell in cells)}
    FROM deposits_deposit
    LEFT JOIN deposits_region r ON r.id = deposits_deposit.region_id
    LEFT JOIN deposits_district di ON di.id = deposits_deposit.district_id
    LEFT JOIN deposits_metallogenicbelt b ON b.id = deposits_deposit.belt_id
    LEFT JOIN LATERAL (SELECT
        string_agg(m.name, ', ' {_ORDER}) FILTER (WHERE c.role = %s) AS main,
        string_agg(m.name, ', ' {_ORDER}) FILTER (WHERE c.role = %s) AS associated,
        string_agg(m.name || ' ' || ({SHARE_PCT_SQL})::text || %s || ({SHARE_BASIS_SQL}) || ')',
            '; ' {_ORDER}) AS shares
        {_COMMODITIES}) minerals ON true
    WHERE deposits_deposit.id IN ({chosen})
    ORDER BY {order_by}"""
    roles = [DepositCommodity.Role.MAIN.value, DepositCommodity.Role.ASSOCIATED.value]
    return sql, [*status_params, *level_params, *roles, "% (", *chosen_params]


# `_feature` in SQL. jsonb keeps its keys in its own order; the document is the same.
_FEATURE = f"""jsonb_build_object(
    'type', 'Feature', 'id', deposits_deposit.public_id,
    'geometry', CASE
        WHEN deposits_deposit.longitude IS NULL OR deposits_deposit.latitude IS NULL THEN NULL
        ELSE jsonb_build_object('type', 'Point', 'coordinates', jsonb_build_array(
            deposits_deposit.longitude::float8, deposits_deposit.latitude::float8)) END,
    'properties', jsonb_build_object(
        'id', deposits_deposit.public_id,
        'name', deposits_deposit.name,
        'aliases', deposits_deposit.aliases,
        'region', (SELECT code FROM deposits_region WHERE id = deposits_deposit.region_id),
        'district', (SELECT code FROM deposits_district WHERE id = deposits_deposit.district_id),
        'status', NULLIF(deposits_deposit.status, ''),
        'deposit_type', NULLIF(deposits_deposit.deposit_type, ''),
        'belt', (SELECT code FROM deposits_metallogenicbelt WHERE id = deposits_deposit.belt_id),
        'exploration_level', NULLIF(deposits_deposit.exploration_level, ''),
        'visibility', deposits_deposit.visibility,
        'commodities', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'mineral', m.code, 'role', c.role,
                'reserve_share_pct', ({SHARE_PCT_SQL})::text,
                'share_basis', {SHARE_BASIS_SQL}) {_ORDER})
            {_COMMODITIES}), '[]'::jsonb),
        'updated_at', regexp_replace(to_char(deposits_deposit.updated_at AT TIME ZONE 'UTC',
            'YYYY-MM-DD"T"HH24:MI:SS.US'), '\\.000000$', '') || '+00:00'))"""


def feature_texts(queryset):
    """The queryset as GeoJSON features, each serialised by the database."""
    feature = Cast(RawSQL(_FEATURE, []), TextField())
    return (
        queryset.prefetch_related(None).annotate(feature=feature).values_list("feature", flat=True)
    )
