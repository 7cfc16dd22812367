"""Regions, minerals, belts, deposits and their reserve estimates."""

import datetime
import operator
from collections.abc import Iterable
from decimal import Decimal
from functools import reduce

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, FloatField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from deposits import entry
from deposits.units import GradeUnit, MassUnit
from kernel import names
from kernel.languages import localized
from kernel.models import PublicRecord, Visibility
from kernel.validators import PlainTextFields
from kernel.visibility import OPENS_FIGURES, OPENS_RECORD, VisibleQuerySet

# Tajikistan's bounding box (WGS84). A point outside it cannot be a Tajik deposit;
# a point inside it but outside the border is flagged by the data-quality report.
LATITUDE_RANGE = (Decimal("36.6"), Decimal("41.1"))
LONGITUDE_RANGE = (Decimal("67.3"), Decimal("75.2"))


class TranslatedNameMixin(PlainTextFields):
    """Records named in English (`name`), Russian (`name_ru`) and Tajik (`name_tg`), with
    no control or invisible characters in any of them (kernel/validators.py)."""

    plain_text_fields = ("name", "name_ru", "name_tg")

    def localized_name(self, language: str | None = None) -> str:
        """The name in `language` (the active one by default), else the English
        (kernel/languages.py)."""
        return localized(self, "name", language).text


class Region(TranslatedNameMixin, models.Model):
    """A first-level administrative unit, keyed by its ISO 3166-2 code."""

    code = models.CharField(_("ISO 3166-2 code"), max_length=6, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_ru = models.CharField(_("name (Russian)"), max_length=120, blank=True)
    name_tg = models.CharField(_("name (Tajik)"), max_length=120, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("region-detail", args=[self.code])


class District(TranslatedNameMixin, models.Model):
    """A city or district inside a region (codes such as TJ-SU-10 are local keys)."""

    code = models.CharField(_("code"), max_length=12, unique=True)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="districts", verbose_name=_("region")
    )
    name = models.CharField(_("name"), max_length=120)
    name_ru = models.CharField(_("name (Russian)"), max_length=120, blank=True)
    name_tg = models.CharField(_("name (Tajik)"), max_length=120, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["region__code", "name"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return self.name


class CriticalList(models.TextChoices):
    """Official lists of critical minerals (deposits/data/critical_minerals_lists.csv);
    the code's first part is the badge the pages show."""

    US_2022 = "US-2022", _("United States: critical minerals list, 2022 (USGS)")
    EU_2023 = "EU-2023", _("European Union: critical raw materials, 2023 (CRMA)")
    KR_2023 = "KR-2023", _("Republic of Korea: critical minerals, 2023")


class Mineral(TranslatedNameMixin, models.Model):
    """A commodity, addressed by a stable lowercase code such as `silver`."""

    class Group(models.TextChoices):
        PRECIOUS = "precious", _("precious metals")
        BASE = "base", _("base metals")
        FERROUS = "ferrous", _("ferrous and alloying metals")
        RARE = "rare", _("rare metals")
        RARE_EARTH = "rare-earth", _("rare earths")
        ENERGY = "energy", _("energy minerals")
        INDUSTRIAL = "industrial", _("industrial minerals")
        GEMSTONE = "gemstone", _("gemstones")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    symbol = models.CharField(_("symbol"), max_length=12)
    name = models.CharField(_("name"), max_length=80)
    name_ru = models.CharField(_("name (Russian)"), max_length=80, blank=True)
    name_tg = models.CharField(_("name (Tajik)"), max_length=80, blank=True)
    group = models.CharField(_("group"), max_length=20, choices=Group.choices)
    is_critical = models.BooleanField(
        _("critical"),
        default=False,
        editable=False,
        help_text=_("On at least one official list of critical minerals (kept from the lists)."),
    )
    critical_lists = models.JSONField(
        _("critical mineral lists"),
        default=list,
        blank=True,
        help_text=_("The official lists that call the mineral critical, one code a line."),
    )
    unit = models.CharField(
        _("unit of contained quantity"),
        max_length=5,
        choices=MassUnit.choices,
        default=MassUnit.TONNE,
    )
    minmod_id = models.CharField(
        _("MinMod commodity id"),
        max_length=12,
        blank=True,
        help_text=_("Identifier in the MinMod commodity list (e.g. Q585 for silver)."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("mineral")
        verbose_name_plural = _("minerals")

    def __str__(self) -> str:
        return f"{self.name} ({self.symbol})"

    def save(self, *args, **kwargs):
        # "Critical" means named by at least one official list; the flag is kept for the
        # filters that ask only that (deposits.filters, the admin, OGC).
        self.critical_lists = [c for c in CriticalList.values if c in self.critical_lists]
        self.is_critical = bool(self.critical_lists)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "critical_lists" in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_critical"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("mineral-detail", args=[self.code])

    def clean(self) -> None:
        super().clean()
        known = CriticalList.values
        if not isinstance(self.critical_lists, list) or not all(
            code in known for code in self.critical_lists
        ):
            raise ValidationError(
                {
                    "critical_lists": _("Give list codes among %(codes)s.")
                    % {"codes": ", ".join(known)}
                }
            )

    @property
    def critical_list_badges(self) -> list[tuple[str, str]]:
        """(badge, full name) of each list naming the mineral: ("US", "United States ...")."""
        labels = dict(CriticalList.choices)
        return [(code.split("-")[0], labels[code]) for code in self.critical_lists]


class MetallogenicBelt(TranslatedNameMixin, models.Model):
    """A metallogenic belt, e.g. the Zeravshan-Hissar mercury-antimony belt."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=160)
    name_ru = models.CharField(_("name (Russian)"), max_length=160, blank=True)
    name_tg = models.CharField(_("name (Tajik)"), max_length=160, blank=True)
    description = models.TextField(_("description"), blank=True)
    sources = models.JSONField(_("sources"), default=list, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("metallogenic belt")
        verbose_name_plural = _("metallogenic belts")

    def __str__(self) -> str:
        return self.name


def normalize_search_text(text: str) -> str:
    """A deposit's names (one per line) as its `search_text` keeps them: each folded in
    case, then each one's key of the name matcher (kernel/names.py), so the database finds
    the candidates of a search by a plain `contains` on either."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    kept = [names.fold_case(line) for line in lines] + names.keys(lines)
    return "\n".join(dict.fromkeys(kept))


# A search ranks at most this many deposits: a name search is not a way to list them all.
SEARCH_LIMIT = 1000
MAX_QUERY_LENGTH = 200


class DepositQuerySet(VisibleQuerySet):
    opens = OPENS_RECORD

    def matches(self, text: str, threshold: float = names.MATCH) -> list[tuple[float, int]]:
        """(score, primary key) of the deposits whose identifier, name or an alias
        answers `text` in any spelling, best first (kernel/names.py: `score`). The
        database narrows the candidates by the pieces of the query's key; Python ranks."""
        text = text.strip()
        if len(text) > MAX_QUERY_LENGTH or "\x00" in text:
            return []  # the FilterSet and the search endpoint refuse these with a 400
        fragments, needed = names.candidate_fragments(text, threshold)
        if not fragments:
            return []
        # Names holding any piece (PostgreSQL answers this from the trigram index of
        # migration 0006), then holding enough of them: portable SQL, one scan at worst.
        holding_any = reduce(operator.or_, (Q(search_text__contains=f) for f in fragments))
        held = reduce(
            operator.add,
            (
                Case(When(search_text__contains=f, then=Value(1)), default=Value(0))
                for f in fragments
            ),
        )
        identifier = Q(public_id__iexact=text)
        rows = (
            self.alias(fragments_held=held)
            .filter(identifier | holding_any)
            .filter(identifier | Q(fragments_held__gte=needed))
            .prefetch_related(None)
            .order_by()
            .values_list("pk", "public_id", "search_text")
        )
        scored = []
        for pk, public_id, search_text in rows:
            if public_id.casefold() == text.casefold():
                scored.append((names.EXACT, pk))
                continue
            found = names.score(text, search_text.splitlines())
            if found >= threshold:
                scored.append((found, pk))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return scored[:SEARCH_LIMIT]

    def search(self, text: str) -> "DepositQuerySet":
        """Deposits whose identifier, name or an alias answers `text` in any spelling,
        best match first (`match_score`, 0-100; an `order_by` may replace the order)."""
        scored = self.matches(text)
        if not scored:
            return self.none().annotate(match_score=Value(0.0, output_field=FloatField()))
        tiers = {}
        for found, pk in scored:
            tiers.setdefault(round(found, 2), []).append(pk)
        match_score = Case(
            *(When(pk__in=pks, then=Value(found)) for found, pks in tiers.items()),
            default=Value(0.0),
            output_field=FloatField(),
        )
        return (
            self.filter(pk__in=[pk for _, pk in scored])
            .annotate(match_score=match_score)
            .order_by("-match_score", *Deposit._meta.ordering)
        )


# The deposit classes the MinMod records name (`deposit_type_candidate`): vocabulary, which
# the pages show in the reader's language; a type a clerk writes otherwise shows as written.
DEPOSIT_TYPE_LABELS = {
    "Epithermal": _("Epithermal"),
    "Hydrothermal": _("Hydrothermal"),
    "Igneous": _("Igneous"),
    "Metamorphic": _("Metamorphic"),
    "Sedimentary": _("Sedimentary"),
    "Surficial": _("Surficial"),
}


def deposit_type_label(deposit_type: str) -> str:
    """A deposit type in the reader's language where it is vocabulary, else as written."""
    return str(DEPOSIT_TYPE_LABELS.get(deposit_type, deposit_type))


class Deposit(TranslatedNameMixin, PublicRecord):
    """A named mineral deposit (or occurrence) of Tajikistan."""

    ID_PREFIX = "TJD"
    plain_text_fields = (*TranslatedNameMixin.plain_text_fields, "aliases")

    class Status(models.TextChoices):
        OCCURRENCE = "occurrence", _("occurrence")
        PROSPECT = "prospect", _("prospect")
        EXPLORED = "explored", _("explored")
        UNDER_DEVELOPMENT = "under-development", _("under development")
        PRODUCING = "producing", _("producing")
        SUSPENDED = "suspended", _("suspended")
        CLOSED = "closed", _("closed")

    class ExplorationLevel(models.TextChoices):
        RECONNAISSANCE = "reconnaissance", _("reconnaissance")
        PROSPECTING = "prospecting", _("prospecting")
        APPRAISAL = "appraisal", _("prospecting and appraisal")
        PRELIMINARY = "preliminary", _("preliminary exploration")
        DETAILED = "detailed", _("detailed exploration")
        EXPLOITATION = "exploitation", _("exploitation exploration")

    name = models.CharField(_("name"), max_length=160)
    name_ru = models.CharField(_("name (Russian)"), max_length=160, blank=True)
    name_tg = models.CharField(_("name (Tajik)"), max_length=160, blank=True)
    aliases = models.JSONField(
        _("aliases"),
        default=list,
        blank=True,
        help_text=_("Other spellings, Latin and Cyrillic, one per line."),
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="deposits",
        null=True,
        blank=True,
        verbose_name=_("region"),
    )
    region_derived = models.BooleanField(
        _("region derived from coordinates"),
        default=False,
        help_text=_("The region was suggested from coordinates and awaits confirmation."),
    )
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        related_name="deposits",
        null=True,
        blank=True,
        verbose_name=_("district"),
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=Status.choices,
        blank=True,
        help_text=_("Leave empty when no source states it."),
    )
    deposit_type = models.CharField(_("deposit type"), max_length=120, blank=True)
    belt = models.ForeignKey(
        MetallogenicBelt,
        on_delete=models.PROTECT,
        related_name="deposits",
        null=True,
        blank=True,
        verbose_name=_("belt"),
    )
    exploration_level = models.CharField(
        _("exploration level"), max_length=20, choices=ExplorationLevel.choices, blank=True
    )
    description = models.TextField(_("description"), blank=True)
    description_ru = models.TextField(_("description (Russian)"), blank=True)
    description_tg = models.TextField(_("description (Tajik)"), blank=True)
    sources = models.JSONField(
        _("sources"), default=list, blank=True, help_text=_("One source per line.")
    )
    visibility = models.CharField(
        _("visibility"),
        max_length=10,
        choices=Visibility.choices,
        default=Visibility.PUBLIC,
        db_index=True,
    )
    minerals = models.ManyToManyField(
        Mineral, through="DepositCommodity", related_name="+", verbose_name=_("minerals")
    )
    # Names and aliases folded in case, then their keys of the name matcher
    # (kernel/names.py), one per line; kept by save(), read by DepositQuerySet.search.
    search_text = models.TextField(editable=False, blank=True, default="")

    history = HistoricalRecords(excluded_fields=["search_text"])
    objects = DepositQuerySet.as_manager()

    # A clerk's reasons for entering a deposit the entry checks would refuse (a look-alike
    # that is a different deposit; a point on a boundary): set by the admin form, the API
    # and the spreadsheet import, kept as the history record's change reason (deposits/entry.py).
    distinct_reason = ""
    location_reason = ""

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("deposit")
        verbose_name_plural = _("deposits")
        indexes = [
            # A page of a list walks the default order and stops, whatever the table's size.
            models.Index(fields=["name", "id"], name="deposit_list_order"),
            # Counts of a filtered list join ids and read visibility from the index alone
            # (PostgreSQL; elsewhere `include` is dropped and this is a plain index).
            models.Index(fields=["id"], include=["visibility"], name="deposit_id_visibility"),
            # The deposit types the list page offers, one probe per type (see
            # deposits.querysets.visible_deposit_types).
            models.Index(fields=["deposit_type", "visibility"], name="deposit_type_visibility"),
            # The deposits a map cannot draw, named under it in the list's order (see
            # deposits.pages.common.without_coordinates): few, found without reading the
            # others (docs/performance.md, "The map").
            models.Index(
                fields=["name", "id"],
                condition=models.Q(latitude__isnull=True) | models.Q(longitude__isnull=True),
                name="deposit_unlocated_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("deposit-detail", args=[self.public_id])

    @property
    def all_names(self) -> list[str]:
        """Every name the deposit goes by: English, Russian, Tajik, then the aliases."""
        return [name for name in (self.name, self.name_ru, self.name_tg) if name] + self.aliases

    def clean(self) -> None:
        errors = {}
        if not isinstance(self.aliases, list) or not all(isinstance(a, str) for a in self.aliases):
            errors["aliases"] = _("Aliases must be a list of names.")
        if (self.latitude is None) != (self.longitude is None):
            field = "longitude" if self.longitude is None else "latitude"
            errors[field] = _("Give both latitude and longitude, or neither.")
        if self.latitude is not None and not (
            LATITUDE_RANGE[0] <= self.latitude <= LATITUDE_RANGE[1]
        ):
            errors["latitude"] = _(
                "Latitude %(value)s is outside Tajikistan (%(low)s to %(high)s N)."
            ) % {"value": self.latitude, "low": LATITUDE_RANGE[0], "high": LATITUDE_RANGE[1]}
        if self.longitude is not None and not (
            LONGITUDE_RANGE[0] <= self.longitude <= LONGITUDE_RANGE[1]
        ):
            errors["longitude"] = _(
                "Longitude %(value)s is outside Tajikistan (%(low)s to %(high)s E)."
            ) % {"value": self.longitude, "low": LONGITUDE_RANGE[0], "high": LONGITUDE_RANGE[1]}
        if self.district_id and self.region_id and self.district.region_id != self.region_id:
            errors["district"] = _("District %(district)s is not in region %(region)s.") % {
                "district": self.district,
                "region": self.region.code,
            }
        if errors:
            raise ValidationError(errors)
        entry.check(self)

    def save(self, *args, **kwargs):
        self.aliases = [a.strip() for a in self.aliases if a and a.strip()]
        self.search_text = normalize_search_text("\n".join(self.all_names))
        if self.district_id and not self.region_id:
            self.region_id = self.district.region_id
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"name", "name_ru", "name_tg", "aliases"} & set(
            update_fields
        ):
            kwargs["update_fields"] = {*update_fields, "search_text"}
        if entry.change_reason(self):
            self._change_reason = entry.change_reason(self)
        super().save(*args, **kwargs)


class OfDepositQuerySet(VisibleQuerySet):
    """Records seen with their deposit: its minerals (part of its record, which a grant
    may open)."""

    visibility_path = "deposit__"
    opens = OPENS_RECORD


class ReserveFiguresQuerySet(OfDepositQuerySet):
    """A deposit's reserve figures (estimates, balance movements): seen with their
    deposit, except that a grant opens them only when it shares reserve figures."""

    opens = OPENS_FIGURES


# An undated estimate is older than any dated one of the same deposit, mineral and kind.
UNDATED = datetime.date(1, 1, 1)


def _balance_kind(balance):
    """Balance, off-balance or not stated, as a value equal to itself (NULL is not)."""
    return Case(When(Exact(balance, True), then=1), When(Exact(balance, False), then=0), default=-1)


class ReserveEstimateQuerySet(ReserveFiguresQuerySet):
    def in_force(self, on: datetime.date | None = None) -> "ReserveEstimateQuerySet":
        """The estimates in force: for each deposit, mineral, category and balance /
        off-balance (an estimate's series), the latest one (by date; the later entered
        among those of one date; an undated one only while no dated one exists). Older
        estimates are history: a re-estimate replaces its predecessor, it is never added
        to it. An estimate withdrawn by a protocol (superseded or written off) leaves force
        on the date of its withdrawal; the ones before it stay history.

        `on` a date: the estimates in force on that date, the latest dated on or before
        it (an undated estimate counts at every date, as nothing says it came later);
        without one, the latest recorded.

        Read from the kept `superseded_on` (`refresh_superseded`), so a date asks a range
        of each row rather than comparing it with the rest of its series."""
        if on is None:
            return self.filter(superseded_on__isnull=True, withdrawal="")
        return self.filter(
            Q(as_of__lte=on) | Q(as_of__isnull=True),
            Q(superseded_on__isnull=True) | Q(superseded_on__gt=on),
        ).exclude(withdrawal__gt="", withdrawn_on__lte=on)


def refresh_superseded(deposit_ids: Iterable[int] | None = None) -> None:
    """Keep each estimate's `superseded_on` of these deposits (all when None): the date of
    the next estimate of its series (UNDATED for an undated one), None for the latest.
    "Next" orders a series by date, undated first, then by entry. Called by the share
    rule's `refresh_kept` before it sums, on every estimate write and bulk load."""
    newer = (
        ReserveEstimate.objects.filter(
            deposit_id=OuterRef("deposit_id"),
            mineral_id=OuterRef("mineral_id"),
            category=OuterRef("category"),
        )
        .annotate(dated=Coalesce("as_of", Value(UNDATED)), kind=_balance_kind(F("balance")))
        .filter(
            Q(dated__gt=Coalesce(OuterRef("as_of"), Value(UNDATED)))
            | Q(dated=Coalesce(OuterRef("as_of"), Value(UNDATED)), pk__gt=OuterRef("pk")),
            kind=_balance_kind(OuterRef("balance")),
        )
        .order_by("dated", "pk")
        .values("dated")[:1]
    )
    estimates = ReserveEstimate.objects.all()
    if deposit_ids is not None:
        estimates = estimates.filter(deposit_id__in=list(deposit_ids))
    estimates.update(superseded_on=Subquery(newer, output_field=models.DateField()))


class DepositCommodity(models.Model):
    """One mineral of a deposit: main or associated, with an optional reported share."""

    class Role(models.TextChoices):
        MAIN = "main", _("main")
        ASSOCIATED = "associated", _("associated")

    class Bound(models.TextChoices):
        """How a source qualifies the share it reports: "over 70%" is not "70%"."""

        STATED = "", _("as stated")
        OVER = "over", _("over")
        UNDER = "under", _("under")
        ABOUT = "about", _("about")

    deposit = models.ForeignKey(
        Deposit, on_delete=models.CASCADE, related_name="commodities", verbose_name=_("deposit")
    )
    mineral = models.ForeignKey(
        Mineral, on_delete=models.PROTECT, related_name="commodities", verbose_name=_("mineral")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MAIN)
    reported_share_pct = models.DecimalField(
        _("reported share of national reserves (%)"),
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    reported_share_bound = models.CharField(
        _("bound of the reported share"),
        max_length=10,
        choices=Bound.choices,
        blank=True,
        default=Bound.STATED,
        help_text=_('How the source words the figure: "over 70%" is 70 with the bound over.'),
    )
    reported_share_source = models.TextField(_("source of the reported share"), blank=True)
    # Derived, kept by deposits.shares on every estimate write: the deposit's balance
    # A+B+C1 estimates in force of this mineral in kilograms; NULL when it has none.
    share_kilograms = models.DecimalField(
        max_digits=40, decimal_places=12, null=True, blank=True, editable=False
    )
    history = HistoricalRecords(excluded_fields=["share_kilograms"])
    objects = OfDepositQuerySet.as_manager()

    class Meta:
        ordering = ["-role", "mineral__name", "mineral__code"]  # "main" before "associated"
        verbose_name = _("deposit mineral")
        verbose_name_plural = _("deposit minerals")
        constraints = [
            models.UniqueConstraint(
                fields=["deposit", "mineral"], name="one_commodity_row_per_mineral"
            )
        ]
        # The deposits of a mineral, in id order, from the index alone (the mineral filter).
        indexes = [models.Index(fields=["mineral", "deposit"], name="commodity_mineral_deposit")]

    def __str__(self) -> str:
        return f"{self.mineral} ({self.get_role_display()})"

    def clean(self) -> None:
        if self.reported_share_pct is None:
            if self.reported_share_bound:
                raise ValidationError(
                    {"reported_share_bound": _("A bound needs the reported share it qualifies.")}
                )
            return
        if not self.reported_share_source.strip():
            raise ValidationError(
                {"reported_share_source": _("A reported share needs its source.")}
            )
        if self.mineral_id is None:
            return
        others = DepositCommodity.objects.filter(mineral_id=self.mineral_id).exclude(
            pk=self.pk
        ).exclude(deposit_id=self.deposit_id).aggregate(total=Sum("reported_share_pct"))[
            "total"
        ] or Decimal(0)
        total = others + self.reported_share_pct
        if total > 100:
            raise ValidationError(
                {
                    "reported_share_pct": _(
                        "Reported shares of %(mineral)s would add up to %(total)s%%, past 100%%."
                    )
                    % {"mineral": self.mineral.name, "total": f"{total.normalize():f}"}
                }
            )


class ReserveEstimate(PublicRecord):
    """A reserve or resource figure for one mineral of one deposit.

    National figures use the GKZ categories; figures published under a CRIRSCO
    code (JORC, NI 43-101, ...) keep their own category and are never relabelled.
    """

    class Category(models.TextChoices):
        # The national categories keep their letters; Russian and Tajik write them in
        # Cyrillic (А, В, С1, С2), as the State Commission's protocols do.
        A = "A", pgettext_lazy("GKZ category", "A")
        B = "B", pgettext_lazy("GKZ category", "B")
        C1 = "C1", pgettext_lazy("GKZ category", "C1")
        C2 = "C2", pgettext_lazy("GKZ category", "C2")
        P1 = "P1", _("P1 (prognostic)")
        P2 = "P2", _("P2 (prognostic)")
        P3 = "P3", _("P3 (prognostic)")
        MEASURED = "measured", _("Measured (CRIRSCO)")
        INDICATED = "indicated", _("Indicated (CRIRSCO)")
        INFERRED = "inferred", _("Inferred (CRIRSCO)")
        MEASURED_INDICATED_INFERRED = "mii", _("Measured + Indicated + Inferred (CRIRSCO)")
        PROVED = "proved", _("Proved (CRIRSCO)")
        PROBABLE = "probable", _("Probable (CRIRSCO)")
        UNCLASSIFIED = "unclassified", _("category not published")

    ID_PREFIX = "RES"
    # What an estimate says, in the order the API and spreadsheets show it.
    FIGURES = (
        "mineral",
        "category",
        "balance",
        "quantity",
        "unit",
        "ore_tonnage",
        "grade",
        "grade_unit",
        "as_of",
        "as_of_precision",
        "approved_by",
        "protocol",
        "source",
    )
    # When the protocol approving the figures was signed, and how the estimate left force
    # otherwise than by a newer one: the API's reserves/, spreadsheets and the admin
    # carry them beside the figures.
    STANDING = ("protocol_date", "withdrawal", "withdrawn_on", "withdrawal_protocol")
    GKZ_CATEGORIES = ("A", "B", "C1", "C2", "P1", "P2", "P3")
    # A deposit's share of national reserves counts explored balance reserves only.
    SHARE_CATEGORIES = ("A", "B", "C1")

    class DatePrecision(models.TextChoices):
        DAY = "day", _("day")
        MONTH = "month", _("month")
        YEAR = "year", _("year")

    class Withdrawal(models.TextChoices):
        """An estimate taken out of force by a protocol, not by a newer estimate's date."""

        NONE = "", _("in force until a newer estimate")
        SUPERSEDED = "superseded", _("superseded")
        WRITTEN_OFF = "written_off", _("written off")

    deposit = models.ForeignKey(
        Deposit, on_delete=models.CASCADE, related_name="reserves", verbose_name=_("deposit")
    )
    mineral = models.ForeignKey(
        Mineral, on_delete=models.PROTECT, related_name="reserves", verbose_name=_("mineral")
    )
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    balance = models.BooleanField(
        _("balance reserves"),
        null=True,
        blank=True,
        help_text=_(
            "Yes: on the state balance (economic); no: off-balance; "
            "unknown: not stated (figures outside the GKZ system)."
        ),
    )
    quantity = models.DecimalField(
        _("contained quantity"),
        max_digits=24,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    unit = models.CharField(_("unit"), max_length=5, choices=MassUnit.choices, blank=True)
    ore_tonnage = models.DecimalField(
        _("ore (t)"),
        max_digits=24,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    grade = models.DecimalField(
        _("grade"),
        max_digits=14,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    grade_unit = models.CharField(
        _("grade unit"), max_length=6, choices=GradeUnit.choices, blank=True
    )
    as_of = models.DateField(_("as of"), null=True, blank=True)
    as_of_precision = models.CharField(
        _("date precision"),
        max_length=5,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
        help_text=_("A figure published for a year only is stored as 1 January of it."),
    )
    approved_by = models.CharField(_("approving body"), max_length=200, blank=True)
    protocol = models.CharField(_("protocol number"), max_length=60, blank=True)
    protocol_date = models.DateField(
        _("protocol date"),
        null=True,
        blank=True,
        help_text=_("The date of the State Commission's protocol that approved the estimate."),
    )
    source = models.TextField(_("source"), blank=True)
    note = models.TextField(_("note"), blank=True)
    withdrawal = models.CharField(
        _("withdrawn"),
        max_length=12,
        choices=Withdrawal.choices,
        blank=True,
        default=Withdrawal.NONE,
        help_text=_(
            "Superseded or written off by a protocol: the estimate leaves force on the "
            "date of withdrawal and no longer counts towards shares and totals."
        ),
    )
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    withdrawal_protocol = models.CharField(
        _("withdrawal protocol"),
        max_length=200,
        blank=True,
        help_text=_("The protocol that superseded or wrote off the estimate."),
    )
    # Kept by `refresh_superseded`: the date the next estimate of the series takes over.
    superseded_on = models.DateField(_("superseded on"), null=True, editable=False)
    history = HistoricalRecords(excluded_fields=["superseded_on"])
    objects = ReserveEstimateQuerySet.as_manager()

    class Meta:
        # A total order, so ETags are stable; undated estimates last on every engine.
        ordering = ["mineral__name", "category", F("as_of").desc(nulls_last=True), "id"]
        verbose_name = _("reserve estimate")
        verbose_name_plural = _("reserve estimates")
        indexes = [models.Index(fields=["mineral", "category", "balance"])]

    def __str__(self) -> str:
        return f"{self.deposit} {self.mineral.symbol} {self.category}"

    @property
    def is_gkz(self) -> bool:
        return self.category in self.GKZ_CATEGORIES

    @property
    def crirsco_guidance(self) -> str:
        """The usual, unofficial CRIRSCO counterpart of a GKZ category (guidance only)."""
        return str(CRIRSCO_GUIDANCE.get(self.category, ""))

    def clean(self) -> None:
        errors = {}
        if self.quantity is not None and not self.unit:
            errors["unit"] = _("Give the unit of the contained quantity.")
        if self.unit and self.unit not in MassUnit.values:
            errors["unit"] = _("Unknown unit %(unit)s; use one of %(units)s.") % {
                "unit": self.unit,
                "units": ", ".join(MassUnit.values),
            }
        if self.grade is not None and not self.grade_unit:
            errors["grade_unit"] = _("Give the unit of the grade.")
        if self.quantity is None and self.ore_tonnage is None and self.grade is None:
            errors["quantity"] = _("Give at least a contained quantity, an ore tonnage or a grade.")
        errors.update(self.withdrawal_errors())
        if errors:
            raise ValidationError(errors)

    def withdrawal_errors(self) -> dict:
        """A withdrawal says its kind, its date (on or after the estimate's own, not in
        the future) and the protocol that made it."""
        errors = {}
        if not self.withdrawal:
            if self.withdrawn_on is not None or self.withdrawal_protocol.strip():
                errors["withdrawal"] = _(
                    "Say whether the estimate was superseded or written off, or leave the "
                    "withdrawal date and protocol empty."
                )
            return errors
        if self.withdrawn_on is None:
            errors["withdrawn_on"] = _("Give the date the estimate was withdrawn.")
        elif self.as_of is not None and self.withdrawn_on < self.as_of:
            errors["withdrawn_on"] = _(
                "The estimate is dated %(as_of)s; it cannot be withdrawn before, on %(date)s."
            ) % {"as_of": self.as_of.isoformat(), "date": self.withdrawn_on.isoformat()}
        elif self.withdrawn_on > timezone.localdate():
            errors["withdrawn_on"] = _("A withdrawal cannot be dated in the future.")
        if not self.withdrawal_protocol.strip():
            errors["withdrawal_protocol"] = _("Give the protocol that withdrew the estimate.")
        return errors


class NationalReserveTotal(models.Model):
    """Derived: the balance A+B+C1 quantity in kilograms of a mineral held by the deposits
    of one visibility level. A share's denominator is the sum of these over the levels its
    reader may see (deposits.shares). Kept by deposits.shares on each estimate, deposit
    mineral and visibility write, so a page of deposits reads a few small rows instead of
    summing the whole national table."""

    mineral = models.ForeignKey(
        Mineral,
        on_delete=models.CASCADE,
        related_name="national_totals",
        verbose_name=_("mineral"),
    )
    visibility = models.CharField(
        _("visibility of the deposits"), max_length=20, choices=Visibility.choices
    )
    kilograms = models.DecimalField(_("kilograms"), max_digits=40, decimal_places=12)

    class Meta:
        verbose_name = _("national reserve total")
        verbose_name_plural = _("national reserve totals")
        constraints = [
            models.UniqueConstraint(
                fields=["mineral", "visibility"], name="one_total_per_mineral_and_visibility"
            )
        ]

    def __str__(self) -> str:
        return f"{self.mineral} ({self.visibility}): {self.kilograms} kg"


CRIRSCO_GUIDANCE = {
    "A": _("Measured"),
    "B": _("Measured"),
    "C1": _("Indicated"),
    "C2": _("Inferred"),
    "P1": "—",
    "P2": "—",
    "P3": "—",
}


def balance_figure(label, *, movement: bool = True, outflow: bool = False):
    """A quantity of a State Balance line, in the line's unit: a movement is 0 unless
    given, an outflow (extraction, losses, write-off) is never negative."""
    return models.DecimalField(
        label,
        max_digits=24,
        decimal_places=6,
        validators=[MinValueValidator(Decimal(0))] if outflow else [],
        **({"default": 0} if movement else {}),
    )


# The categories the yearly State Balance keeps.
BALANCE_CATEGORIES = ("A", "B", "C1", "C2")
BALANCE_CATEGORY_CHOICES = [
    c for c in ReserveEstimate.Category.choices if c[0] in BALANCE_CATEGORIES
]
# The bounds a source may give a share ("over" 70%), without the empty one (as stated).
SHARE_BOUND_CHOICES = [c for c in DepositCommodity.Bound.choices if c[0]]


class BalanceMovement(models.Model):
    """One line of the yearly State Balance of reserves: for a deposit, mineral, GKZ
    category and balance or off-balance, how the reserves moved in one year.

    Closing = opening + exploration gain - extraction - losses + re-estimation - write-off
    + transfers (in minus out), in the unit of the line; the closing of one year is the
    opening of the next. Extraction is the deposit's production of the mineral that year.
    """

    # The movements between opening and closing, with the sign each adds to the balance.
    MOVEMENTS = {
        "exploration_gain": 1,
        "extraction": -1,
        "losses": -1,
        "re_estimation": 1,
        "write_off": -1,
        "transfer": 1,
    }

    deposit = models.ForeignKey(
        Deposit, on_delete=models.CASCADE, related_name="movements", verbose_name=_("deposit")
    )
    mineral = models.ForeignKey(
        Mineral, on_delete=models.PROTECT, related_name="movements", verbose_name=_("mineral")
    )
    category = models.CharField(
        _("category"),
        max_length=12,
        choices=BALANCE_CATEGORY_CHOICES,
    )
    balance = models.BooleanField(_("balance reserves"), default=True)
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    unit = models.CharField(_("unit"), max_length=5, choices=MassUnit.choices)
    opening = balance_figure(_("opening balance"), movement=False)
    exploration_gain = balance_figure(_("gain from exploration"))
    extraction = balance_figure(_("extraction"), outflow=True)
    losses = balance_figure(_("losses in mining"), outflow=True)
    re_estimation = balance_figure(_("re-estimation (±)"))
    write_off = balance_figure(_("write-off"), outflow=True)
    transfer = balance_figure(_("transfers between categories (±)"))
    closing = balance_figure(_("closing balance"), movement=False)
    protocol = models.CharField(_("protocol number"), max_length=60, blank=True)
    source = models.TextField(_("source"))
    history = HistoricalRecords()
    objects = ReserveFiguresQuerySet.as_manager()

    class Meta:
        ordering = ["deposit__name", "mineral__name", "category", "-balance", "year"]
        verbose_name = _("balance movement")
        verbose_name_plural = _("balance movements")
        constraints = [
            models.UniqueConstraint(
                fields=["deposit", "mineral", "category", "balance", "year"],
                name="one_balance_line_per_year",
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.mineral} {self.category}"

    @property
    def expected_closing(self) -> Decimal:
        moved = sum(sign * (getattr(self, name) or 0) for name, sign in self.MOVEMENTS.items())
        return (self.opening or 0) + moved

    def neighbours(self):
        """The lines of the same deposit, mineral, category and balance in other years."""
        lines = BalanceMovement.objects.filter(
            deposit_id=self.deposit_id,
            mineral_id=self.mineral_id,
            category=self.category,
            balance=self.balance,
        )
        return lines.exclude(pk=self.pk) if self.pk else lines

    def clean(self) -> None:
        if self.opening is None or self.closing is None:
            return  # the fields' own errors say so
        label = {"year": self.year, "category": self.category}
        difference = self.closing - self.expected_closing
        if difference:
            raise ValidationError(
                {
                    "closing": _(
                        "%(year)s, category %(category)s: the closing balance is off by "
                        "%(difference)s from the opening plus the movements (%(expected)s)."
                    )
                    % {
                        **label,
                        "difference": f"{difference.normalize():+f}",
                        "expected": f"{self.expected_closing.normalize():f}",
                    }
                }
            )
        if self.deposit_id is None or self.mineral_id is None or self.year is None:
            return
        neighbours = self.neighbours()
        previous = neighbours.filter(year=self.year - 1).first()
        if previous is not None and previous.closing != self.opening:
            raise ValidationError(
                {
                    "opening": _(
                        "%(year)s, category %(category)s: the opening balance must be the "
                        "closing balance of %(previous)s (%(closing)s)."
                    )
                    % {
                        **label,
                        "previous": self.year - 1,
                        "closing": f"{previous.closing.normalize():f}",
                    }
                }
            )
        following = neighbours.filter(year=self.year + 1).first()
        if following is not None and following.opening != self.closing:
            raise ValidationError(
                {
                    "closing": _(
                        "%(year)s, category %(category)s: the closing balance must be the "
                        "opening balance of %(next)s (%(opening)s)."
                    )
                    % {
                        **label,
                        "next": self.year + 1,
                        "opening": f"{following.opening.normalize():f}",
                    }
                }
            )
        if neighbours.exclude(unit=self.unit).exists():
            raise ValidationError(
                {"unit": _("Every year of one balance line is kept in the same unit.")}
            )


class BalanceClosure(models.Model):
    """A mineral's State Balance of one year, closed by the State Commission: staff mark it
    so, and every answer that states a computed share of the mineral says whether the
    registry's balance is complete (`deposits.balance.balance_complete_for`)."""

    mineral = models.ForeignKey(
        Mineral, on_delete=models.PROTECT, related_name="closures", verbose_name=_("mineral")
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    closed_on = models.DateField(_("closed on"))
    protocol = models.CharField(_("protocol number"), max_length=60, blank=True)
    source = models.TextField(_("source"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["mineral__name", "-year"]
        verbose_name = _("State Balance closure")
        verbose_name_plural = _("State Balance closures")
        constraints = [
            models.UniqueConstraint(fields=["mineral", "year"], name="one_closure_per_mineral_year")
        ]

    def __str__(self) -> str:
        return f"{self.mineral} {self.year}"

    def clean(self) -> None:
        # A year's balance is closed after the year: the State Balance "as of 1 January".
        closed_on, year = self.closed_on, self.year
        if closed_on is not None and closed_on > timezone.localdate():
            raise ValidationError({"closed_on": _("A closure cannot be dated in the future.")})
        if year is not None and closed_on is not None and closed_on.year <= year:
            raise ValidationError(
                {
                    "closed_on": _(
                        "The State Balance of %(year)s is closed after the year ends "
                        "(on or after 1 January %(next)s)."
                    )
                    % {"year": self.year, "next": self.year + 1}
                }
            )
