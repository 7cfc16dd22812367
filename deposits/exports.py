"""Downloads of a deposit list: CSV, XLSX and GeoJSON, for the API and the pages alike.

`COLUMNS` is the one definition of a deposit's row: the CSV and the XLSX workbook
are the same table, so an analyst's export from the pages and a partner's from the
API agree. `feature` is the export's GeoJSON feature. Every response takes the
filtered, ordered queryset the caller may see and reads it as rows, in chunks, with
its regions, minerals and reserve shares (`deposits.querysets.deposit_rows`), so
memory stays flat however many deposits are exported.

Asked with `include=reserves` (`Extras`), an export adds the reserves in force per
mineral: in CSV and XLSX five columns a mineral (`reserve_columns`: the balance A+B+C1
reserves, their unit, every category in force, the share and its basis), for the
minerals filtered by, else for every mineral the exported deposits hold; in GeoJSON,
`reserves_in_force` on each of a deposit's minerals (`reserves_in_force`). Figures are
those of the share rule as the caller reads them, as of the export's day.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter

from django.http import FileResponse, QueryDict, StreamingHttpResponse
from django.utils import timezone

from deposits.filters import RESERVES
from deposits.models import (
    Deposit,
    DepositCommodity,
    District,
    MetallogenicBelt,
    Mineral,
    NationalReserveTotal,
    Region,
    ReserveEstimate,
)
from deposits.querysets import ROW_FIELDS, deposit_rows
from deposits.shares import share_text
from deposits.units import convert
from kernel.exports import point, stream_csv, stream_geojson, workbook_response
from kernel.planner import ensure_statistics
from kernel.visibility import Caller

FILENAME = "deposits"


class _Display:
    """The label of a choice field's value, in the active language (as
    `get_<field>_display` gives it)."""

    def __init__(self, field: str):
        self.field = field
        self.labels = dict(Deposit._meta.get_field(field).flatchoices)

    def __call__(self, deposit: dict) -> str:
        return self.bound()(deposit)

    def bound(self) -> Callable[[dict], str]:
        """The labels translated now, in the active language, once for a whole export
        rather than once a row."""
        texts = {key: str(label) for key, label in self.labels.items()}
        field = self.field

        def value(deposit: dict) -> str:
            found = deposit[field]
            return texts[found] if found in texts else str(found)

        return value


def _blank(field: str) -> Callable[[dict], str]:
    """A field of a related record (region, district, belt); empty when there is none."""
    return lambda d: d[field] or ""


def _minerals(role: str) -> Callable[[dict], str]:
    def value(deposit: dict) -> str:
        return ", ".join(c["mineral__name"] for c in deposit["commodities"] if c["role"] == role)

    return value


def _shares(deposit: dict) -> str:
    return "; ".join(
        share_text(c["mineral__name"], c)
        for c in deposit["commodities"]
        if c["share_pct"] is not None
    )


def _utc(moment: datetime.datetime) -> str:
    if moment.tzinfo is not datetime.UTC:  # as the database hands it over, mostly
        moment = moment.astimezone(datetime.UTC)
    return moment.replace(tzinfo=None).isoformat(" ", "seconds")


# A deposit's row in CSV and XLSX: (header, value of a deposit row), in the order of the
# file; a deposit row is what `deposits.querysets.deposit_rows` reads.
COLUMNS: list[tuple[str, Callable[[dict], object]]] = [
    ("Identifier", itemgetter("public_id")),
    ("Name", itemgetter("name")),
    ("Name (Russian)", itemgetter("name_ru")),
    ("Name (Tajik)", itemgetter("name_tg")),
    ("Other names", lambda d: "; ".join(d["aliases"])),
    ("Region code", _blank("region__code")),
    ("Region", _blank("region__name")),
    ("District", _blank("district__name")),
    ("Latitude", itemgetter("latitude")),
    ("Longitude", itemgetter("longitude")),
    ("Status", _Display("status")),
    ("Deposit type", itemgetter("deposit_type")),
    ("Metallogenic belt", _blank("belt__name")),
    ("Exploration level", _Display("exploration_level")),
    ("Main minerals", _minerals(DepositCommodity.Role.MAIN)),
    ("Associated minerals", _minerals(DepositCommodity.Role.ASSOCIATED)),
    ("Reserve shares (% of national reserves)", _shares),
    ("Visibility", itemgetter("visibility")),
    ("Sources", lambda d: "; ".join(d["sources"])),
    ("Last updated (UTC)", lambda d: _utc(d["updated_at"])),
]
HEADER = [header for header, _ in COLUMNS]

# Quantities as the API writes them: six decimal places, exact.
QUANTITY_PLACES = Decimal("0.000001")
CATEGORY_ORDER = {code: place for place, code in enumerate(ReserveEstimate.Category.values)}


@dataclass(frozen=True)
class Extras:
    """What an export adds to the list's columns, from the request's parameters, which
    the deposit FilterSet has already checked (`include`, `mineral`)."""

    reserves: bool = False
    mineral_codes: tuple[str, ...] = ()

    @classmethod
    def of(cls, params: QueryDict) -> "Extras":
        return cls(RESERVES in params.getlist("include"), tuple(params.getlist("mineral")))


NO_EXTRAS = Extras()


def _quantity(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(QUANTITY_PLACES)


def _plain(value: Decimal) -> str:
    """A quantity without trailing zeros: 150, 2.5, 0.031103."""
    return f"{_quantity(value).normalize():f}"


def reserves_in_force(commodity: dict) -> dict:
    """A deposit mineral's reserves in force, in the mineral's unit: `quantity`, its
    balance A+B+C1 reserves (the numerator of its computed share; None without one);
    `categories`, each estimate in force with a quantity (category, balance or
    off-balance, quantity), in the order of the categories, balance first."""
    unit = commodity["mineral__unit"]
    kilograms = commodity["reserve_kilograms"]
    categories = sorted(
        commodity["in_force"],
        key=lambda e: (CATEGORY_ORDER.get(e["category"], 99), e["balance"] is not True),
    )
    return {
        "quantity": None if kilograms is None else _quantity(convert(kilograms, "kg", unit)),
        "unit": unit,
        "categories": [
            {
                "category": estimate["category"],
                "balance": estimate["balance"],
                "quantity": _quantity(convert(estimate["quantity"], estimate["unit"], unit)),
            }
            for estimate in categories
        ],
    }


def _categories_text(reserves: dict) -> str:
    """`C1 150; C2 30; C1 off-balance 5; P1 200`, in the mineral's unit."""
    return "; ".join(
        f"{c['category']}{' off-balance' if c['balance'] is False else ''} {_plain(c['quantity'])}"
        for c in reserves["categories"]
    )


def _basis(commodity: dict) -> str:
    """`computed over public`, `reported`, `reported (over)`; empty when unknown."""
    basis, scope, bound = (commodity[k] for k in ("share_basis", "share_scope", "share_bound"))
    if basis is None:
        return ""
    if scope:
        return f"{basis} over {scope}"
    return f"{basis} ({bound})" if bound else basis


def _of_mineral(mineral_id: int, value: Callable[[dict], object]) -> Callable[[dict], object]:
    """A cell of one mineral's columns: `value` of the deposit's row of that mineral
    (with its `reserves`), empty when the deposit does not hold it."""

    def cell(deposit: dict):
        for commodity in deposit["commodities"]:
            if commodity["mineral_id"] == mineral_id:
                return value(commodity)
        return None

    return cell


def reserve_columns(minerals: list[Mineral]) -> list[tuple[str, Callable[[dict], object]]]:
    """Per mineral, the five columns `include=reserves` adds to the CSV and XLSX."""
    columns = []
    for mineral in minerals:
        of = mineral.name
        columns += [
            (
                f"{of}: balance reserves A+B+C1 in force",
                _of_mineral(mineral.pk, lambda c: c["reserves"]["quantity"]),
            ),
            (f"{of}: unit", _of_mineral(mineral.pk, lambda c: c["reserves"]["unit"])),
            (
                f"{of}: reserves in force by category",
                _of_mineral(mineral.pk, lambda c: _categories_text(c["reserves"])),
            ),
            (f"{of}: reserve share (%)", _of_mineral(mineral.pk, lambda c: c["share_pct"])),
            (f"{of}: share basis", _of_mineral(mineral.pk, _basis)),
        ]
    return columns


def column_minerals(queryset, extras: Extras) -> list[Mineral]:
    """The minerals of the reserve columns: those the list is filtered by, else every
    mineral the exported deposits hold; by name (one query)."""
    minerals = Mineral.objects.order_by("name", "code")
    if extras.mineral_codes:
        return list(minerals.filter(code__in=extras.mineral_codes))
    held = DepositCommodity.objects.filter(deposit__in=queryset.order_by().values("pk"))
    return list(minerals.filter(pk__in=held.values("mineral_id")))


def columns(queryset, extras: Extras) -> list[tuple[str, Callable[[dict], object]]]:
    """The export's columns: `COLUMNS`, and the reserve columns when asked for."""
    table = [(header, _bound(value)) for header, value in COLUMNS]
    if not extras.reserves:
        return table
    return table + reserve_columns(column_minerals(queryset, extras))


def _bound(value: Callable[[dict], object]) -> Callable[[dict], object]:
    return value.bound() if isinstance(value, _Display) else value


def row(deposit: dict, table=COLUMNS) -> list:
    return [value(deposit) for _, value in table]


def _feature_commodity(commodity: dict) -> dict:
    described = {
        "mineral": commodity["mineral__code"],
        "role": commodity["role"],
        "reserve_share_pct": None
        if commodity["share_pct"] is None
        else str(commodity["share_pct"]),
        "share_basis": commodity["share_basis"],
        "share_scope": commodity["share_scope"],
        "share_bound": commodity["share_bound"],
    }
    if "reserves" in commodity:
        reserves = commodity["reserves"]
        described["reserves_in_force"] = {
            "quantity": None if reserves["quantity"] is None else str(reserves["quantity"]),
            "unit": reserves["unit"],
            "categories": [{**c, "quantity": str(c["quantity"])} for c in reserves["categories"]],
        }
    return described


def feature(deposit: dict) -> dict:
    """A deposit row as a feature of the GeoJSON export (codes, and its minerals as a list)."""
    return {
        "type": "Feature",
        "id": deposit["public_id"],
        "geometry": point(deposit["longitude"], deposit["latitude"]),
        "properties": {
            "id": deposit["public_id"],
            "name": deposit["name"],
            "name_ru": deposit["name_ru"],
            "name_tg": deposit["name_tg"],
            "aliases": deposit["aliases"],
            "region": deposit["region__code"],
            "district": deposit["district__code"],
            "status": deposit["status"] or None,
            "deposit_type": deposit["deposit_type"] or None,
            "belt": deposit["belt__code"],
            "exploration_level": deposit["exploration_level"] or None,
            "visibility": deposit["visibility"],
            "commodities": [_feature_commodity(c) for c in deposit["commodities"]],
            "updated_at": deposit["updated_at"].isoformat(),
        },
    }


# What `COLUMNS` and `feature` read of a deposit row: not its description or creation,
# which no export writes and which would cross the wire once a deposit for nothing.
FIELDS = tuple(name for name in ROW_FIELDS if name not in ("description", "created_at"))

# The tables an export of everything reads from end to end.
READ_WHOLE = [
    Deposit,
    DepositCommodity,
    District,
    MetallogenicBelt,
    Mineral,
    NationalReserveTotal,
    Region,
]


def records(queryset, caller: Caller, on: datetime.date | None = None, reserves: bool = False):
    """The deposit rows of an export (shares as of `on`; with `reserves`, each mineral
    with its `reserves_in_force` as `reserves`), once the planner has statistics of what
    it reads."""
    ensure_statistics([*READ_WHOLE, ReserveEstimate] if reserves else READ_WHOLE)
    rows = deposit_rows(queryset, caller, on=on, reserves=reserves, fields=FIELDS)
    return _with_reserves(rows) if reserves else rows


def _with_reserves(rows):
    for deposit in rows:
        for commodity in deposit["commodities"]:
            commodity["reserves"] = reserves_in_force(commodity)
        yield deposit


def csv_response(queryset, caller: Caller, on=None, extras=NO_EXTRAS) -> StreamingHttpResponse:
    table = columns(queryset, extras)
    header = [header for header, _ in table]
    rows = (row(d, table) for d in records(queryset, caller, on, extras.reserves))
    return stream_csv(header, rows, FILENAME)


def geojson_response(queryset, caller: Caller, on=None, extras=NO_EXTRAS) -> StreamingHttpResponse:
    features = (feature(d) for d in records(queryset, caller, on, extras.reserves))
    return stream_geojson(features, FILENAME)


def xlsx_response(queryset, caller: Caller, on=None, extras=NO_EXTRAS) -> FileResponse:
    """The same table as an XLSX workbook, written row by row (constant memory per row)."""
    table = columns(queryset, extras)
    header = [header for header, _ in table]
    rows = (row(deposit, table) for deposit in records(queryset, caller, on, extras.reserves))
    return workbook_response(
        [("deposits", header, rows)], f"{FILENAME}-{timezone.localdate().isoformat()}"
    )
