"""Downloads of a deposit list: CSV, XLSX and GeoJSON, for the API and the pages alike.

`COLUMNS` is the one definition of a deposit's row: the CSV and the XLSX workbook
are the same table, so an analyst's export from the pages and a partner's from the
API agree. `feature` is the export's GeoJSON feature. Every response takes the
filtered, ordered queryset the caller may see and reads it in chunks with its
regions, minerals and reserve shares (`deposits.shares`), so memory stays flat
however many deposits are exported.
"""

import datetime
import tempfile
from collections.abc import Callable, Iterator

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from deposits.models import Deposit, DepositCommodity
from deposits.shares import prefetch_commodities
from kernel.exports import CHUNK_SIZE, point, stream_csv, stream_geojson

FILENAME = "deposits"


def _related(relation: str, field: str) -> Callable[[Deposit], str]:
    """A field of a related record (region, district, belt); empty when there is none."""

    def value(deposit: Deposit) -> str:
        related = getattr(deposit, relation)
        return "" if related is None else getattr(related, field)

    return value


def _minerals(role: str) -> Callable[[Deposit], str]:
    def value(deposit: Deposit) -> str:
        return ", ".join(c.mineral.name for c in deposit.commodities.all() if c.role == role)

    return value


def _shares(deposit: Deposit) -> str:
    return "; ".join(
        f"{c.mineral.name} {c.share_pct}% ({c.share_basis})"
        for c in deposit.commodities.all()
        if c.share_pct is not None
    )


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


# A deposit's row in CSV and XLSX: (header, value of a deposit), in the order of the file.
COLUMNS: list[tuple[str, Callable[[Deposit], object]]] = [
    ("Identifier", lambda d: d.public_id),
    ("Name", lambda d: d.name),
    ("Name (Russian)", lambda d: d.name_ru),
    ("Name (Tajik)", lambda d: d.name_tg),
    ("Other names", lambda d: "; ".join(d.aliases)),
    ("Region code", _related("region", "code")),
    ("Region", _related("region", "name")),
    ("District", _related("district", "name")),
    ("Latitude", lambda d: d.latitude),
    ("Longitude", lambda d: d.longitude),
    ("Status", lambda d: d.get_status_display()),
    ("Deposit type", lambda d: d.deposit_type),
    ("Metallogenic belt", _related("belt", "name")),
    ("Exploration level", lambda d: d.get_exploration_level_display()),
    ("Main minerals", _minerals(DepositCommodity.Role.MAIN)),
    ("Associated minerals", _minerals(DepositCommodity.Role.ASSOCIATED)),
    ("Reserve shares (% of national reserves)", _shares),
    ("Visibility", lambda d: d.visibility),
    ("Sources", lambda d: "; ".join(d.sources)),
    ("Last updated (UTC)", lambda d: _utc(d.updated_at)),
]
HEADER = [header for header, _ in COLUMNS]


def row(deposit: Deposit) -> list:
    return [value(deposit) for _, value in COLUMNS]


def feature(deposit: Deposit) -> dict:
    """A deposit as a feature of the GeoJSON export (codes, and its minerals as a list)."""
    return {
        "type": "Feature",
        "id": deposit.public_id,
        "geometry": point(deposit.longitude, deposit.latitude),
        "properties": {
            "id": deposit.public_id,
            "name": deposit.name,
            "name_ru": deposit.name_ru,
            "name_tg": deposit.name_tg,
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
                    "reserve_share_pct": None if c.share_pct is None else str(c.share_pct),
                    "share_basis": c.share_basis,
                }
                for c in deposit.commodities.all()
            ],
            "updated_at": deposit.updated_at.isoformat(),
        },
    }


def records(queryset) -> Iterator[Deposit]:
    """The deposits of the queryset, in its order, read CHUNK_SIZE at a time, each with its
    region, district, belt and minerals with their shares (two queries a chunk)."""
    queryset = (
        queryset.select_related("region", "district", "belt")
        .prefetch_related(None)
        .prefetch_related(prefetch_commodities())
    )
    return queryset.iterator(chunk_size=CHUNK_SIZE)


def csv_response(queryset) -> StreamingHttpResponse:
    return stream_csv(HEADER, (row(d) for d in records(queryset)), FILENAME)


def geojson_response(queryset) -> StreamingHttpResponse:
    return stream_geojson((feature(d) for d in records(queryset)), FILENAME)


def xlsx_response(queryset) -> FileResponse:
    """An XLSX workbook built in openpyxl's write-only mode (constant memory per row).

    A text cell is always a string cell, never a formula, so it needs no escaping.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("deposits")
    sheet.append(HEADER)
    for deposit in records(queryset):
        cells = []
        for value in row(deposit):
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    output = tempfile.TemporaryFile()  # noqa: SIM115  (FileResponse closes it)
    workbook.save(output)
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=f"{FILENAME}-{timezone.localdate().isoformat()}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
