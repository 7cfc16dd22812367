"""Query parameters that are numbers, moments, days or bounding boxes, read one way by
every surface: the API's filters and paging, the change feed, the statistics, the OGC
service and the pages.

Each kind is a form field (so a FilterSet or a page's form uses it as it is) and
`read` turns a field's refusal into the API's 400 naming the parameter. A value the
database could not take (a moment that leaves the calendar when shifted to UTC, a
number with a thousand digits) is settled here, never in the query.
"""

import datetime
import re
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal

import django_filters as filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions

# Longer text is no number or moment; refused before it is parsed.
MAX_LENGTH = 100
EARLIEST = datetime.datetime.min.replace(tzinfo=datetime.UTC)
LATEST = datetime.datetime.max.replace(tzinfo=datetime.UTC)
MICRODEGREE = Decimal("0.000001")
# The first day a registry's figures may be asked for (`as_of`): no GKZ estimate or
# State Balance is older, and the balance lines start at 1900 too.
EARLIEST_AS_OF = datetime.date(1900, 1, 1)
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def instant(text: str, *, end_of_day: bool = False, rfc3339: bool = False):
    """An ISO 8601 date or date-time as an aware UTC datetime. A date is its whole day
    (`end_of_day`: its last microsecond) and a date-time without an offset is read in
    the registry's time zone; `rfc3339` (as OGC wants) refuses a date-time without an
    offset and takes a date as a UTC day. A moment within a day of year 1 or 9999
    leaves the calendar when shifted to UTC: it stands for the calendar's end, since
    the caller asked for everything or nothing."""
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise ValidationError(_("Give an ISO 8601 date or date-time."), code="invalid")
    # An unencoded '+' of a UTC offset arrives as a space.
    text = text.replace(" ", "+") if "T" in text else text
    try:
        day = parse_date(text)
        value = None if day is not None else parse_datetime(text)
    except ValueError:
        value = day = None
    if day is not None:
        moment = datetime.time.max if end_of_day else datetime.time()
        value = datetime.datetime.combine(day, moment, tzinfo=datetime.UTC if rfc3339 else None)
    elif value is None:
        raise ValidationError(
            _("%(value)r is not an ISO 8601 date or date-time (e.g. 2026-11-26T00:00:00Z)."),
            code="invalid",
            params={"value": text},
        )
    elif rfc3339 and value.tzinfo is None:
        raise ValidationError(
            _("Give the time zone of %(value)s (Z or +05:00)."),
            code="invalid",
            params={"value": text},
        )
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(datetime.UTC)
    except OverflowError:
        return EARLIEST if value.year < 5000 else LATEST


class InstantField(forms.CharField):
    """A moment (`instant`) in a query parameter."""

    def __init__(self, *, end_of_day=False, rfc3339=False, **kwargs):
        self.end_of_day, self.rfc3339 = end_of_day, rfc3339
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        return instant(value, end_of_day=self.end_of_day, rfc3339=self.rfc3339)


class AsOfField(forms.CharField):
    """The day a registry's figures are asked for (`as_of`): YYYY-MM-DD, from
    EARLIEST_AS_OF to today in the registry's time zone (nothing is known of a later
    day). Empty is None: the caller decides what no day means (today)."""

    widget = forms.DateInput(attrs={"type": "date"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        if not DAY.fullmatch(value):
            raise ValidationError(_("Give a date as YYYY-MM-DD."), code="invalid")
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            raise ValidationError(
                _("%(value)s is not a day of the calendar."),
                code="invalid",
                params={"value": value},
            ) from None
        if day < EARLIEST_AS_OF:
            raise ValidationError(
                _("Give a date of %(earliest)s or later."),
                code="min_value",
                params={"earliest": EARLIEST_AS_OF.isoformat()},
            )
        today = timezone.localdate()
        if day > today:
            raise ValidationError(
                _(
                    "The registry's figures go up to today, %(today)s: give that date or "
                    "an earlier one."
                ),
                code="max_value",
                params={"today": today.isoformat()},
            )
        return day


class WholeNumberField(forms.IntegerField):
    """A whole number, written as digits (no exponent, no fraction), within its bounds."""

    default_error_messages = {
        "invalid": _("Give a whole number."),
        "min_value": _("Give a number of %(limit_value)s or more."),
        "max_value": _("Give a number of %(limit_value)s or less."),
    }

    def to_python(self, value):
        if isinstance(value, str) and value != "":
            value = value.strip()
            digits = value[1:] if value[:1] in ("+", "-") else value
            if len(value) > MAX_LENGTH or not (digits.isascii() and digits.isdigit()):
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class NumberField(forms.DecimalField):
    """A decimal number within its bounds, kept to `places` decimals (rounded up, so as a
    lower bound it selects the same records): a value of a thousand digits, which
    PostgreSQL refuses, is the same number."""

    def __init__(self, *, places: int = 6, **kwargs):
        self.places = places
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str) and len(value.strip()) > MAX_LENGTH:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        value = super().to_python(value)
        if value is None or not value.is_finite() or value.as_tuple().exponent >= -self.places:
            return value
        return value.quantize(Decimal(1).scaleb(-self.places), ROUND_CEILING, Context(prec=200))


class BBoxField(forms.CharField):
    """`minLon,minLat,maxLon,maxLat` in WGS84 degrees, longitude first."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        parts = value.split(",")
        if len(parts) != 4 or len(value) > 4 * MAX_LENGTH:
            raise ValidationError(
                _("Give four numbers: minLon,minLat,maxLon,maxLat."), code="invalid"
            )
        try:
            min_lon, min_lat, max_lon, max_lat = (Decimal(p.strip()) for p in parts)
        except ArithmeticError:
            raise ValidationError(_("Every bbox value must be a number."), code="invalid") from None
        if not all(v.is_finite() for v in (min_lon, min_lat, max_lon, max_lat)):
            raise ValidationError(_("Every bbox value must be a number."), code="invalid")
        if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
            raise ValidationError(_("Longitudes must lie between -180 and 180."), code="invalid")
        if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
            raise ValidationError(_("Latitudes must lie between -90 and 90."), code="invalid")
        if min_lon > max_lon or min_lat > max_lat:
            raise ValidationError(
                _("The minimum must not exceed the maximum (minLon,minLat,maxLon,maxLat)."),
                code="invalid",
            )
        # To the micro-degree the coordinates are kept in, rounded inwards so the box
        # selects exactly the same records: a value of a thousand digits (which
        # PostgreSQL refuses) is the same box.
        low, high = (
            [v.quantize(MICRODEGREE, rounding) for v in pair]
            for pair, rounding in (
                ((min_lon, min_lat), ROUND_CEILING),
                ((max_lon, max_lat), ROUND_FLOOR),
            )
        )
        return (*low, *high)


@extend_schema_field(OpenApiTypes.DATETIME)
class InstantFilter(filters.Filter):
    """`field >= / <= a moment` (`lookup_expr`), the moment read by `instant`."""

    field_class = InstantField


@extend_schema_field(OpenApiTypes.DATE)
class AsOfFilter(filters.Filter):
    """`as_of`: a day (`AsOfField`); what it does is the FilterSet's `method`."""

    field_class = AsOfField


@extend_schema_field(OpenApiTypes.INT)
class WholeNumberFilter(filters.Filter):
    field_class = WholeNumberField


class NumberFilter(filters.NumberFilter):
    field_class = NumberField


@extend_schema_field(OpenApiTypes.STR)
class BBoxFilter(filters.Filter):
    """Records whose `longitude` and `latitude` lie in the box."""

    field_class = BBoxField

    def filter(self, qs, value):
        if not value:
            return qs
        min_lon, min_lat, max_lon, max_lat = value
        return qs.filter(
            longitude__gte=min_lon,
            longitude__lte=max_lon,
            latitude__gte=min_lat,
            latitude__lte=max_lat,
        )


def read(params, name: str, field: forms.Field, default=None):
    """The query parameter `name` through `field`, `default` when absent or empty;
    a refusal is a 400 naming the parameter."""
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        return field.clean(raw)
    except ValidationError as error:
        raise exceptions.ValidationError({name: error.messages}) from None


def whole_number(params, name: str, default=None, minimum: int = 1, maximum: int | None = None):
    """The query parameter `name` as an int from `minimum` (to `maximum`), or `default`."""
    return read(params, name, WholeNumberField(min_value=minimum, max_value=maximum), default)


def as_of(params) -> datetime.date:
    """The `as_of` query parameter (`AsOfField`); today, in the registry's time zone, when
    absent."""
    return read(params, "as_of", AsOfField()) or timezone.localdate()
