"""Spreadsheet columns of deposits and reserve estimates (import and export alike)."""

from decimal import Decimal, InvalidOperation
from functools import cached_property

from django.core.exceptions import ValidationError
from import_export import fields, widgets

from deposits.minmod import name_key
from deposits.models import (
    BalanceMovement,
    Deposit,
    DepositCommodity,
    District,
    MetallogenicBelt,
    Mineral,
    Region,
    ReserveEstimate,
)
from kernel.spreadsheets import CodeWidget, IdentifiedResource, ListWidget, RegistryResource

BOUNDS = [bound for bound in DepositCommodity.Bound.values if bound]


def parse_shares(text: str) -> dict[str, tuple[str, Decimal]]:
    """ "silver: over 70; gold: 2.5" -> {"silver": ("over", 70), "gold": ("", 2.5)}: each
    mineral's share with the bound its source gives (DepositCommodity.Bound)."""
    shares = {}
    for item in ListWidget().clean(text):
        code, _, figure = item.partition(":")
        bound, _, number = figure.strip().rpartition(" ")
        if bound not in ("", *BOUNDS):
            raise ValidationError(
                {"reported_shares": f"{item!r}: {bound!r} is not one of {', '.join(BOUNDS)}"}
            )
        try:
            shares[code.strip()] = (bound, Decimal(number.rstrip("%")))
        except InvalidOperation:
            raise ValidationError(
                {
                    "reported_shares": f"{item!r} is not 'mineral: percent' "
                    "(e.g. 'silver: 70' or 'silver: over 70')"
                }
            ) from None
    return shares


def share_cell(commodity: DepositCommodity) -> str:
    """A reported share as `parse_shares` reads it back: "silver: over 70"."""
    bound = f"{commodity.reported_share_bound} " if commodity.reported_share_bound else ""
    return f"{commodity.mineral.code}: {bound}{commodity.reported_share_pct.normalize():f}"


class DepositResource(IdentifiedResource):
    """One row per deposit, its minerals and reported shares in columns of their own.

    Rows match existing deposits by identifier (`id`), else by name or alias in the
    same region; a row without a match creates a deposit. Optional columns
    `distinct_reason` and `location_reason` carry a clerk's reasons for an entry the
    entry checks would refuse (deposits/entry.py).
    """

    aliases = fields.Field(attribute="aliases", column_name="aliases", widget=ListWidget())
    region = fields.Field(attribute="region", column_name="region", widget=CodeWidget(Region))
    district = fields.Field(
        attribute="district", column_name="district", widget=CodeWidget(District)
    )
    belt = fields.Field(attribute="belt", column_name="belt", widget=CodeWidget(MetallogenicBelt))
    main_minerals = fields.Field(column_name="main_minerals")
    associated_minerals = fields.Field(column_name="associated_minerals")
    reported_shares = fields.Field(column_name="reported_shares")
    reported_share_source = fields.Field(column_name="reported_share_source")
    sources = fields.Field(
        attribute="sources", column_name="sources", widget=ListWidget(separator=" | ")
    )

    class Meta(IdentifiedResource.Meta):
        model = Deposit
        import_id_fields = ["name", "region"]
        fields = [
            "id",
            "name",
            "name_ru",
            "name_tg",
            "aliases",
            "region",
            "district",
            "latitude",
            "longitude",
            "status",
            "deposit_type",
            "belt",
            "exploration_level",
            "visibility",
            "main_minerals",
            "associated_minerals",
            "reported_shares",
            "reported_share_source",
            "description",
            "sources",
        ]
        export_order = fields

    # --- export ---------------------------------------------------------------------
    def _codes(self, deposit, role):
        return "; ".join(c.mineral.code for c in deposit.commodities.all() if c.role == role)

    def dehydrate_main_minerals(self, deposit):
        return self._codes(deposit, DepositCommodity.Role.MAIN)

    def dehydrate_associated_minerals(self, deposit):
        return self._codes(deposit, DepositCommodity.Role.ASSOCIATED)

    def dehydrate_reported_shares(self, deposit):
        return "; ".join(
            share_cell(c) for c in deposit.commodities.all() if c.reported_share_pct is not None
        )

    def dehydrate_reported_share_source(self, deposit):
        sources = {c.reported_share_source for c in deposit.commodities.all()}
        return " | ".join(sorted(s for s in sources if s))

    # --- import ---------------------------------------------------------------------
    def find_without_id(self, instance_loader, row):
        """The deposit of the same region that has this name or alias."""
        name = (row.get("name") or "").strip()
        if not name:
            return None
        keys = {name_key(name)}
        candidates = Deposit.objects.search(name).filter(region__code=row.get("region") or "")
        for deposit in candidates:
            if keys & {name_key(n) for n in deposit.all_names}:
                return deposit
        return None

    def import_instance(self, instance, row, **kwargs):
        # A clerk's reasons for what the entry checks refuse (deposits/entry.py): columns
        # an import may add, never exported.
        for reason in ("distinct_reason", "location_reason"):
            setattr(instance, reason, (row.get(reason) or "").strip())
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        try:
            instance.imported_commodities = self.parse_commodities(row)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    @cached_property
    def minerals(self) -> dict[str, Mineral]:
        """The minerals by code (a resource serves one import)."""
        return {m.code: m for m in Mineral.objects.all()}

    def parse_commodities(self, row) -> dict[str, dict]:
        minerals = self.minerals  # read once per import
        wanted = {}
        for column, role in [
            ("main_minerals", DepositCommodity.Role.MAIN),
            ("associated_minerals", DepositCommodity.Role.ASSOCIATED),
        ]:
            for code in ListWidget().clean(row.get(column)):
                if code not in minerals:
                    raise ValidationError({column: f"unknown mineral {code!r}"})
                wanted[code] = {"mineral": minerals[code], "role": role}
        source = (row.get("reported_share_source") or "").strip()
        for code, (bound, pct) in parse_shares(row.get("reported_shares") or "").items():
            if code not in wanted:
                raise ValidationError(
                    {"reported_shares": f"{code!r} has a share but is not one of the minerals"}
                )
            wanted[code].update(
                reported_share_bound=bound, reported_share_pct=pct, reported_share_source=source
            )
        return wanted

    def commodities_changed(self, instance) -> bool:
        current = (
            {
                c.mineral.code: (
                    c.role,
                    c.reported_share_bound,
                    c.reported_share_pct,
                    c.reported_share_source,
                )
                for c in instance.commodities.select_related("mineral")
            }
            if instance.pk
            else {}
        )
        wanted = {
            code: (
                values["role"],
                values.get("reported_share_bound", ""),
                values.get("reported_share_pct"),
                values.get("reported_share_source", ""),
            )
            for code, values in instance.imported_commodities.items()
        }
        return current != wanted

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if not import_validation_errors and self.commodities_changed(instance):
            return False
        return super().skip_row(instance, original, row, import_validation_errors)

    def after_save_instance(self, instance, row, **kwargs):
        """Make the deposit's minerals what the row says, each checked like an admin inline.

        The deposit and the minerals are in hand and one commodity is kept per mineral,
        so the checks that they exist and are unique are left to the database's keys.
        """
        wanted = instance.imported_commodities
        current = {c.mineral.code: c for c in instance.commodities.select_related("mineral")}
        for code, commodity in current.items():
            if code not in wanted:
                commodity.delete()
        for code, values in wanted.items():
            commodity = current.get(code) or DepositCommodity(
                deposit=instance, mineral=values["mineral"]
            )
            commodity.role = values["role"]
            commodity.reported_share_bound = values.get("reported_share_bound", "")
            commodity.reported_share_pct = values.get("reported_share_pct")
            commodity.reported_share_source = values.get("reported_share_source", "")
            commodity.full_clean(exclude=["deposit", "mineral"], validate_unique=False)
            commodity.save()


class ReserveEstimateResource(IdentifiedResource):
    """One row per estimate: by identifier, else by deposit, mineral, category, balance,
    date and protocol."""

    deposit = fields.Field(
        attribute="deposit", column_name="deposit", widget=CodeWidget(Deposit, "public_id")
    )
    mineral = fields.Field(attribute="mineral", column_name="mineral", widget=CodeWidget(Mineral))
    balance = fields.Field(
        attribute="balance", column_name="balance", widget=widgets.BooleanWidget()
    )

    class Meta(IdentifiedResource.Meta):
        model = ReserveEstimate
        import_id_fields = ["deposit", "mineral", "category", "balance", "as_of", "protocol"]
        fields = ["id", "deposit", *ReserveEstimate.FIGURES, *ReserveEstimate.STANDING, "note"]
        export_order = fields


class BalanceMovementResource(RegistryResource):
    """One row per line of the yearly State Balance: matched by deposit, mineral,
    category, balance and year, so a year's balance imported again changes nothing."""

    deposit = fields.Field(
        attribute="deposit", column_name="deposit", widget=CodeWidget(Deposit, "public_id")
    )
    mineral = fields.Field(attribute="mineral", column_name="mineral", widget=CodeWidget(Mineral))
    balance = fields.Field(
        attribute="balance", column_name="balance", widget=widgets.BooleanWidget()
    )

    class Meta(RegistryResource.Meta):
        model = BalanceMovement
        import_id_fields = ["deposit", "mineral", "category", "balance", "year"]
        fields = [
            *import_id_fields,
            "unit",
            "opening",
            *BalanceMovement.MOVEMENTS,
            "closing",
            "protocol",
            "source",
        ]
        export_order = fields
