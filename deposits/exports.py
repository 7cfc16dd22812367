"""Downloads of a deposit list: CSV, XLSX and GeoJSON, for the API and the pages alike.

`COLUMNS` is the one definition of a deposit's row: the CSV and the XLSX workbook
are the same table, so an analyst's export from the pages and a partner's from the
API agree. `feature` is the export's GeoJSON feature. Every response takes the
filtered, ordered queryset the caller may see and reads it as rows, in chunks, with
its regions, minerals and reserve shares (`deposits.querysets.deposit_rows`), so
memory stays flat however many deposits are exported.
"""

import datetime
from collections.abc import Callable

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from deposits.models import (
    Deposit,
    DepositCommodity,
    District,
    MetallogenicBelt,
    Mineral,
    NationalReserveTotal,
    Region,
)
from deposits.querysets import deposit_rows
from deposits.shares import share_text
from kernel.exports import point, stream_csv, stream_geojson, workbook_response
from kernel.planner import ensure_statistics
from kernel.visibility import Caller

FILENAME = "deposits"


def _display(field: str) -> Callable[[dict], str]:
    """The label of a choice field's value, in the active language (as
    `get_<field>_display` gives it)."""
    labels = dict(Deposit._meta.get_field(field).flatchoices)
    return lambda d: str(labels.get(d[field], d[field]))


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
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


# A deposit's row in CSV and XLSX: (header, value of a deposit row), in the order of the
# file; a deposit row is what `deposits.querysets.deposit_rows` reads.
COLUMNS: list[tuple[str, Callable[[dict], object]]] = [
    ("Identifier", lambda d: d["public_id"]),
    ("Name", lambda d: d["name"]),
    ("Name (Russian)", lambda d: d["name_ru"]),
    ("Name (Tajik)", lambda d: d["name_tg"]),
    ("Other names", lambda d: "; ".join(d["aliases"])),
    ("Region code", _blank("region__code")),
    ("Region", _blank("region__name")),
    ("District", _blank("district__name")),
    ("Latitude", lambda d: d["latitude"]),
    ("Longitude", lambda d: d["longitude"]),
    ("Status", _display("status")),
    ("Deposit type", lambda d: d["deposit_type"]),
    ("Metallogenic belt", _blank("belt__name")),
    ("Exploration level", _display("exploration_level")),
    ("Main minerals", _minerals(DepositCommodity.Role.MAIN)),
    ("Associated minerals", _minerals(DepositCommodity.Role.ASSOCIATED)),
    ("Reserve shares (% of national reserves)", _shares),
    ("Visibility", lambda d: d["visibility"]),
    ("Sources", lambda d: "; ".join(d["sources"])),
    ("Last updated (UTC)", lambda d: _utc(d["updated_at"])),
]
HEADER = [header for header, _ in COLUMNS]


def row(deposit: dict) -> list:
    return [value(deposit) for _, value in COLUMNS]


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
            "commodities": [
                {
                    "mineral": c["mineral__code"],
                    "role": c["role"],
                    "reserve_share_pct": None if c["share_pct"] is None else str(c["share_pct"]),
                    "share_basis": c["share_basis"],
                    "share_scope": c["share_scope"],
                    "share_bound": c["share_bound"],
                }
                for c in deposit["commodities"]
            ],
            "updated_at": deposit["updated_at"].isoformat(),
        },
    }


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


def records(queryset, caller: Caller, on: datetime.date | None = None):
    """The deposit rows of an export (shares as of `on`), once the planner has statistics
    of what it reads."""
    ensure_statistics(READ_WHOLE)
    return deposit_rows(queryset, caller, on=on)


def csv_response(queryset, caller: Caller, on=None) -> StreamingHttpResponse:
    return stream_csv(HEADER, (row(d) for d in records(queryset, caller, on)), FILENAME)


def geojson_response(queryset, caller: Caller, on=None) -> StreamingHttpResponse:
    return stream_geojson((feature(d) for d in records(queryset, caller, on)), FILENAME)


def xlsx_response(queryset, caller: Caller, on=None) -> FileResponse:
    """The same table as an XLSX workbook, written row by row (constant memory per row)."""
    rows = (row(deposit) for deposit in records(queryset, caller, on))
    return workbook_response(
        [("deposits", HEADER, rows)], f"{FILENAME}-{timezone.localdate().isoformat()}"
    )
