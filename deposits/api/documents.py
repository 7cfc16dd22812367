"""The deposit JSON of API v1 built by PostgreSQL: the read path of lists and records.

`DepositSerializer` defines the document and stays the path for writes, for SQLite
and for the schema. On PostgreSQL a page of deposits is built in one statement, with
the serializer's fields, formats and order (tests hold the two to the same JSON, so
an ETag read here is the one a write checks). Python then only pages and renders.
"""

import json

from django.db.models import DateField, DecimalField, ForeignKey
from django.utils import timezone

from deposits.models import ReserveEstimate
from deposits.services import SHARE_BASIS_SQL, SHARE_PCT_SQL, commodities_sql
from kernel.api.prepared import prepared_rows


def _two_places(number: str) -> str:
    """A number of up to three decimals as DRF's DecimalField(decimal_places=2) writes it:
    rounded half to even (12.345 -> "12.34", 12.355 -> "12.36")."""
    return f"""(CASE WHEN mod(({number}) * 1000, 10) = 5 AND mod(trunc(({number}) * 100), 2) = 0
        THEN trunc({number}, 2) ELSE round({number}, 2) END)::text"""


def iso_datetime_sql(column: str, zone: str = "zone.name") -> str:
    """A timestamp as DRF writes it: ISO 8601 in the time zone `zone` (an SQL expression;
    by default the active time zone the document statement is given), microseconds only
    when there are any, "Z" for UTC."""
    local = f"({column} AT TIME ZONE {zone})"
    offset = f"({local} - ({column} AT TIME ZONE 'UTC'))"
    return f"""to_char({local}, 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN to_char({column}, 'US') = '000000' THEN ''
            ELSE to_char({local}, '.US') END
        || CASE WHEN {offset} = interval '0' THEN 'Z'
            WHEN {offset} > interval '0' THEN '+' || to_char({offset}, 'HH24:MI')
            ELSE to_char({offset}, 'HH24:MI') END"""


def _reserve_figure(name: str) -> str:
    """One figure of ReserveEstimate.FIGURES as DepositReserveSerializer writes it."""
    field = ReserveEstimate._meta.get_field(name)
    if isinstance(field, ForeignKey):
        return "em.code"  # the mineral, by code
    if isinstance(field, DecimalField | DateField):
        return f"e.{field.column}::text"  # decimals exact at the column's scale; ISO dates
    return f"e.{field.column}"


_RESERVES = ", ".join(
    [
        "'id', e.public_id",
        *(f"'{name}', {_reserve_figure(name)}" for name in ReserveEstimate.FIGURES),
    ]
)

DEPOSIT_SQL = f"""SELECT json_build_object(
    'id', d.public_id, 'name', d.name, 'aliases', d.aliases,
    'region', r.code, 'district', di.code,
    'latitude', d.latitude::float8, 'longitude', d.longitude::float8,
    'status', d.status, 'deposit_type', d.deposit_type, 'belt', b.code,
    'exploration_level', d.exploration_level, 'description', d.description,
    'visibility', d.visibility,
    'commodities', coalesce((
        SELECT json_agg(json_build_object(
            'mineral', x.code, 'role', x.role,
            'reserve_share_pct', {_two_places("x.pct")},
            'share_basis', x.basis,
            'reported_share_pct', x.reported_share_pct::text,
            'reported_share_source', x.reported_share_source) ORDER BY x.role, x.name, x.code)
        FROM (SELECT m.code, m.name, c.role, c.reported_share_pct, c.reported_share_source,
                {SHARE_PCT_SQL} AS pct, {SHARE_BASIS_SQL} AS basis
            {commodities_sql("d.id")}) x), '[]'),
    'reserves', coalesce((
        SELECT json_agg(json_build_object({_RESERVES})
            ORDER BY em.name, e.category, e.as_of DESC, e.id)
        FROM deposits_reserveestimate e JOIN deposits_mineral em ON em.id = e.mineral_id
        WHERE e.deposit_id = d.id), '[]'),
    'sources', d.sources,
    'created_at', {iso_datetime_sql("d.created_at")},
    'updated_at', {iso_datetime_sql("d.updated_at")})::text
FROM deposits_deposit d
CROSS JOIN (SELECT %s::text AS name) zone
LEFT JOIN deposits_region r ON r.id = d.region_id
LEFT JOIN deposits_district di ON di.id = d.district_id
LEFT JOIN deposits_metallogenicbelt b ON b.id = d.belt_id
WHERE {{where}}"""


def _documents(where: str, params: list, using: str) -> list[dict]:
    sql = DEPOSIT_SQL.format(where=where)
    rows = prepared_rows(sql, [timezone.get_current_timezone_name(), *params], using)
    return [json.loads(text) for (text,) in rows]


def deposit_documents(ids: list[int], using: str) -> list[dict]:
    """The API documents of these deposits, in the order of `ids` (one query)."""
    if not ids:
        return []
    where = "d.id = ANY(%s::bigint[]) ORDER BY array_position(%s::bigint[], d.id)"
    return _documents(where, [list(ids), list(ids)], using)


def visible_deposit_document(public_id: str, levels, using: str) -> dict | None:
    """The API document of the deposit `public_id` if its visibility is one of `levels`
    (Deposit.objects.visible_to), else None: a record's answer in one prepared query,
    with no ORM query to build."""
    where = "d.public_id = %s AND d.visibility = ANY(%s)"
    documents = _documents(where, [public_id, sorted(levels)], using)
    return documents[0] if documents else None


def deposit_document(ids) -> dict | None:
    """The API document of the one deposit a `values_list("pk")` queryset selects, read
    together with it (one query); None when it selects none."""
    selected, params = ids[:1].query.sql_with_params()
    documents = _documents(f"d.id IN ({selected})", list(params), ids.db)
    return documents[0] if documents else None
