"""CSV and GeoJSON exports of deposits (streamed; every filter of the list applies)."""

import datetime

from deposits.models import DepositCommodity
from deposits.services import attach_reserve_shares
from registry.api.exports import batches, point, stream_csv, stream_geojson

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
    for batch in batches(queryset, prepare=attach_reserve_shares):
        yield from batch


def deposits_csv(queryset):
    return stream_csv(CSV_HEADER, (csv_row(d) for d in records(queryset)), "deposits")


def deposits_geojson(queryset):
    return stream_geojson((_feature(d) for d in records(queryset)), "deposits")
