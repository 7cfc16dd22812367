"""The entry checks of a deposit: one record per deposit, and a place that is in Tajikistan
and in the region recorded.

`Deposit.clean` runs them, so the admin, the API, the spreadsheet import, the MinMod
import and `load_demo` all refuse the same entries with the same messages. They run when
a deposit is created and when its names or its place change, never on a save that leaves
both alone, so a record entered before the rules existed can still be edited; the
data-quality report lists those (reports/quality.py).

- **One deposit, one record.** A deposit whose name, in any spelling (the name matcher,
  kernel/names.py), is the name of a deposit already recorded is refused, with that
  record's identifier and link, unless something places the two apart: points more than
  `DUPLICATE_RADIUS_KM` apart or, where either has no point, different regions. Two
  records that nothing places apart are taken for one deposit.
- **The real border.** A point must lie inside the country's outline, and inside the
  polygon of the region recorded (a district is checked through its region: the registry
  ships no district outlines), each within `BORDER_TOLERANCE_KM`: the Natural Earth
  1:10m polygons are generalised by up to a few kilometres and published coordinates
  are often given to the minute (about 1.5 km).

A clerk who knows better says why (`distinct_reason`: this is another deposit;
`location_reason`: the point is right, on a boundary the generalised polygons misplace,
or a border-area deposit), and the entry is accepted; the reason is kept as the change
reason of the deposit's history record, and the data-quality report keeps listing the
record. The admin form, the API and the spreadsheet import each take the two reasons
(docs/search.md, "Entry checks"). An importer of a published source has no clerk to
ask: it refuses such a record by its number, or keeps it as published and flagged
(`clean_as_published`), as the caller chooses.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from deposits import geo
from kernel import names

DUPLICATE_RADIUS_KM = 10.0
BORDER_TOLERANCE_KM = 5.0
# The history keeps a change reason of up to 100 characters (django-simple-history).
REASON_MAX_LENGTH = 100
# The reason an importer gives for keeping a record as its source published it.
AS_PUBLISHED = "Kept as its source published it; listed in the data-quality report"
# The codes of the refusals above: what a reason may override.
OVERRIDABLE = frozenset(["duplicate", "outside_border", "outside_region"])

NAME_FIELDS = ("name", "name_ru", "name_tg", "aliases")
PLACE_FIELDS = ("region_id", "district_id", "latitude", "longitude")


def check(deposit) -> None:
    """Refuse the entry of `deposit` (a `ValidationError` by field) if it breaks a rule
    above that the clerk has not overridden with a reason."""
    stored = _stored(deposit)
    errors = {}
    if not deposit.location_reason and (stored is None or _changed(deposit, stored, PLACE_FIELDS)):
        errors.update(place_errors(deposit))
    if not deposit.distinct_reason and (
        stored is None or _changed(deposit, stored, NAME_FIELDS + PLACE_FIELDS)
    ):
        errors.update(duplicate_errors(deposit))
    if len(change_reason(deposit)) > REASON_MAX_LENGTH:
        errors["distinct_reason" if deposit.distinct_reason else "location_reason"] = _(
            "Keep the reasons to %(count)s characters in all: the history keeps no more."
        ) % {"count": REASON_MAX_LENGTH}
    if errors:
        raise ValidationError(errors)


def clean_as_published(deposit) -> list[str]:
    """`full_clean()` a deposit an importer takes from a published source, keeping what the
    entry checks refuse as the source published it (`AS_PUBLISHED`: the data-quality
    report lists it for a clerk; nothing is dropped). Returns the refusals it overrode;
    any other error is raised as usual."""
    try:
        deposit.full_clean()
        return []
    except ValidationError as error:
        refusals = [e for errors in error.error_dict.values() for e in errors]
        if not refusals or any(e.code not in OVERRIDABLE for e in refusals):
            raise
    deposit.distinct_reason = deposit.location_reason = AS_PUBLISHED
    deposit.full_clean()
    return [message for e in refusals for message in e.messages]


def change_reason(deposit) -> str:
    """The clerk's reasons for overriding a check, as the history records them."""
    reasons = (deposit.distinct_reason.strip(), deposit.location_reason.strip())
    return " / ".join(dict.fromkeys(r for r in reasons if r))


def place_errors(deposit) -> dict[str, ValidationError]:
    """The point outside the border, or outside the region recorded."""
    if deposit.latitude is None or deposit.longitude is None:
        return {}
    lon, lat = float(deposit.longitude), float(deposit.latitude)
    outside = geo.km_outside_tajikistan(lon, lat)
    if outside > BORDER_TOLERANCE_KM:
        return {
            "latitude": ValidationError(
                _(
                    "The point %(lat)s N, %(lon)s E lies %(km)s km outside Tajikistan's "
                    "border (%(tolerance)s km are allowed for coarse coordinates)."
                ),
                code="outside_border",
                params={
                    "lat": _figure(lat),
                    "lon": _figure(lon),
                    "km": number_format(round(outside, 1), 1),
                    "tolerance": _figure(BORDER_TOLERANCE_KM),
                },
            )
        }
    region = deposit.region if deposit.region_id else getattr(deposit.district, "region", None)
    if region is None:
        return {}
    off = geo.km_outside_region(region.code, lon, lat)
    if off is None or off <= BORDER_TOLERANCE_KM:
        return {}
    found = geo.region_code_at(lon, lat)
    where = (
        _("The point %(lat)s N, %(lon)s E lies in %(found)s, %(km)s km outside %(region)s.")
        if found
        else _("The point %(lat)s N, %(lon)s E lies %(km)s km outside %(region)s.")
    )
    params = {
        "lat": _figure(lat),
        "lon": _figure(lon),
        "found": _region_label(region, found) if found else "",
        "km": number_format(round(off, 1), 1),
        "region": f"{region.localized_name()} ({region.code})",
    }
    advice = _(
        "Correct the region or the point; if the point is right and on a boundary, give "
        "the reason for keeping it."
    )
    return {"region": ValidationError(f"{where % params} {advice}", code="outside_region")}


def look_alikes(deposit) -> list:
    """The recorded deposits `deposit` would be a second record of (see above)."""
    own = comparable_names(deposit)
    if not own:
        return []
    candidates = set()
    for name_key in names.keys(own):
        candidates.update(pk for _, pk in type(deposit).objects.matches(name_key))
    candidates.discard(deposit.pk)
    others = type(deposit).objects.filter(pk__in=candidates).select_related("region")
    return [
        other
        for other in others.order_by("public_id")
        if names.same_name(own, comparable_names(other)) and not placed_apart(deposit, other)
    ]


def duplicate_errors(deposit) -> dict[str, ValidationError]:
    found = look_alikes(deposit)
    if not found:
        return {}
    records = "; ".join(
        f"{other.public_id} {other.name}"
        + (f" ({other.region.localized_name()})" if other.region_id else "")
        + f", {other.get_absolute_url()}"
        for other in found
    )
    return {
        "name": ValidationError(
            _(
                "This looks like a deposit already recorded: %(records)s. If it is a "
                "different deposit, give the reason it is different."
            ),
            code="duplicate",
            params={"records": records},
        )
    }


def comparable_names(deposit) -> list[str]:
    """The deposit's names but placeholders ("Unnamed P occurrence"), which name nothing."""
    aliases = deposit.aliases if isinstance(deposit.aliases, list) else []
    every = [deposit.name, deposit.name_ru, deposit.name_tg, *aliases]
    return [n for n in every if isinstance(n, str) and n.strip() and not names.placeholder(n)]


def placed_apart(first, second) -> bool:
    """Whether the records' points (or, failing a point, their regions) say they are
    different places."""
    if first.latitude is not None and second.latitude is not None:
        distance = geo.distance_km(
            float(first.longitude),
            float(first.latitude),
            float(second.longitude),
            float(second.latitude),
        )
        return distance > DUPLICATE_RADIUS_KM
    first_region = first.region_id or getattr(first.district, "region_id", None)
    return bool(first_region and second.region_id and first_region != second.region_id)


def _figure(value: float) -> str:
    """A coordinate or a tolerance as written in the reader's language (40.7833, 40,7833)."""
    return number_format(Decimal(f"{value:g}"))


def _region_label(recorded, code: str) -> str:
    """The name and code of the region `code` (a region of the same table as `recorded`)."""
    region = type(recorded).objects.filter(code=code).first()
    return f"{region.localized_name()} ({code})" if region else code


def _stored(deposit) -> dict | None:
    if deposit.pk is None:
        return None
    return type(deposit).objects.filter(pk=deposit.pk).values(*NAME_FIELDS, *PLACE_FIELDS).first()


def _changed(deposit, stored: dict, fields) -> bool:
    return any(getattr(deposit, field) != stored[field] for field in fields)
