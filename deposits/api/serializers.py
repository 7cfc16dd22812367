"""The deposits resources of API v1: field names here are the public contract."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from deposits import entry
from deposits.models import (
    SHARE_BOUND_CHOICES,
    BalanceClosure,
    BalanceMovement,
    Deposit,
    DepositCommodity,
    District,
    MetallogenicBelt,
    Mineral,
    Region,
    ReserveEstimate,
)
from deposits.shares import COMPUTED, REPORTED, SCOPE_NOTES
from kernel.api.serializers import FullCleanMixin, ModelSerializer, SlugReferenceField

SHARE_BASES = [(COMPUTED, COMPUTED), (REPORTED, REPORTED)]
SHARE_SCOPES = [(scope, scope) for scope in SCOPE_NOTES]
# The lists a deposit's document reads its minerals and estimates from: what the viewset
# prefetches into them (`Prefetch(..., to_attr=...)`, lists that Django fills without
# building a queryset for each deposit of a page, docs/performance.md).
LISTED_COMMODITIES = "listed_commodities"
LISTED_RESERVES = "listed_reserves"


def code_field(model, **kwargs):
    # The manager, not a queryset: DRF copies every declared field's arguments for each
    # serializer it builds, and takes `.all()` of a manager when it needs the records.
    return SlugReferenceField(slug_field="code", queryset=model.objects, **kwargs)


def coordinate_field():
    # Coordinates are JSON numbers (GIS tools expect them); quantities stay exact strings.
    return serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        coerce_to_string=False,
        allow_null=True,
        required=False,
    )


class RegionSerializer(ModelSerializer):
    deposit_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Region
        fields = ["code", "name", "name_ru", "name_tg", "deposit_count"]


class MineralSerializer(ModelSerializer):
    deposit_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Mineral
        fields = [
            "code",
            "symbol",
            "name",
            "name_ru",
            "name_tg",
            "group",
            "is_critical",
            "critical_lists",
            "unit",
            "deposit_count",
        ]


class BeltSerializer(ModelSerializer):
    deposit_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = MetallogenicBelt
        fields = ["code", "name", "name_ru", "name_tg", "description", "sources", "deposit_count"]


RESERVE_FIGURES = list(ReserveEstimate.FIGURES)


IN_FORCE_HELP = _(
    "True for an estimate in force on the day the answer is as of (as recorded now "
    "without as_of); false for history: replaced by a newer estimate, or superseded "
    "or written off by a protocol on or before that day (withdrawal, withdrawn_on, "
    "withdrawal_protocol)."
)


class DepositReserveSerializer(ModelSerializer):
    """A reserve estimate as listed inside its deposit (read-only; write via reserves/):
    its figures, its protocol date and withdrawal as recorded, and `in_force`, read from
    the one rule (`deposits.querysets.with_in_force`) for the day the document is as of."""

    id = serializers.CharField(source="public_id", read_only=True)
    mineral = serializers.SlugRelatedField(slug_field="code", read_only=True)
    in_force = serializers.BooleanField(read_only=True, help_text=IN_FORCE_HELP)

    class Meta:
        model = ReserveEstimate
        fields = ["id", *RESERVE_FIGURES, *ReserveEstimate.STANDING, "in_force"]
        read_only_fields = fields


class ReserveEstimateSerializer(FullCleanMixin, ModelSerializer):
    """A reserve estimate of reserves/; `deposit` is the deposit's public id; `in_force`
    read from the one rule (`deposits.querysets.with_in_force`)."""

    id = serializers.CharField(source="public_id", read_only=True)
    deposit = SlugReferenceField(slug_field="public_id", queryset=Deposit.objects)
    mineral = code_field(Mineral)
    in_force = serializers.BooleanField(read_only=True, help_text=IN_FORCE_HELP)

    class Meta:
        model = ReserveEstimate
        fields = [
            "id",
            "deposit",
            *RESERVE_FIGURES,
            *ReserveEstimate.STANDING,
            "note",
            "in_force",
        ]


class CommoditySerializer(ModelSerializer):
    """One mineral of a deposit with its share of the national reserves of that mineral
    (`share_pct`, `share_basis`: read through deposits.shares.with_shares)."""

    mineral = code_field(Mineral)
    reserve_share_pct = serializers.DecimalField(
        source="share_pct",
        max_digits=6,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text=_("Share of the national reserves of this mineral, in percent."),
    )
    share_basis = serializers.ChoiceField(
        choices=SHARE_BASES,
        read_only=True,
        allow_null=True,
        help_text=_(
            "computed: from balance A+B+C1 estimates; reported: a published figure "
            "(see reported_share_source); null: unknown."
        ),
    )
    share_scope = serializers.ChoiceField(
        choices=SHARE_SCOPES,
        read_only=True,
        allow_null=True,
        help_text=_(
            "What a computed share is a share of: the balance reserves of the deposits the "
            "caller may see (public; public+partners; all, for staff). Null for a reported "
            "or unknown share."
        ),
    )
    share_bound = serializers.ChoiceField(
        choices=SHARE_BOUND_CHOICES,
        read_only=True,
        allow_null=True,
        help_text=_(
            "over, under or about where the source of a reported share words it so "
            '("over 70%"); null for a share as stated or computed.'
        ),
    )

    class Meta:
        model = DepositCommodity
        fields = [
            "mineral",
            "role",
            "reserve_share_pct",
            "share_basis",
            "share_scope",
            "share_bound",
            "reported_share_pct",
            "reported_share_bound",
            "reported_share_source",
        ]


class DepositSerializer(FullCleanMixin, ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    aliases = serializers.ListField(
        child=serializers.CharField(max_length=160), required=False, default=list
    )
    sources = serializers.ListField(
        child=serializers.CharField(max_length=2000), required=False, default=list
    )
    region = code_field(Region, allow_null=True, required=False)
    district = code_field(District, allow_null=True, required=False)
    belt = code_field(MetallogenicBelt, allow_null=True, required=False)
    latitude = coordinate_field()
    longitude = coordinate_field()
    commodities = CommoditySerializer(
        many=True,
        required=False,
        source=LISTED_COMMODITIES,  # and written under this name (`update`)
        help_text=_("On write, the complete list of the deposit's minerals (replaces it)."),
    )
    reserves = DepositReserveSerializer(many=True, read_only=True, source=LISTED_RESERVES)
    distinct_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=entry.REASON_MAX_LENGTH,
        help_text=_(
            "Confirms that a deposit the registry takes for one already recorded (a 400 "
            "naming it) is a different deposit, and says why; kept in the history."
        ),
    )
    location_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=entry.REASON_MAX_LENGTH,
        help_text=_(
            "Confirms a point that lies outside the border or the region recorded (a 400 "
            "saying where it lies) as right, and says why; kept in the history."
        ),
    )

    class Meta:
        model = Deposit
        clean_attributes = ["distinct_reason", "location_reason"]
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
            "description",
            "description_ru",
            "description_tg",
            "visibility",
            "commodities",
            "reserves",
            "sources",
            "created_at",
            "updated_at",
            "distinct_reason",
            "location_reason",
        ]

    def validate_commodities(self, items):
        seen = set()
        for item in items:
            code = item["mineral"].code
            if code in seen:
                raise serializers.ValidationError(
                    _("Mineral %(code)s is listed twice.") % {"code": code}
                )
            seen.add(code)
        return items

    def validate_candidate(self, candidate, attrs):
        """The admin's rule for reported shares, row by row (DepositCommodity.clean)."""
        items = attrs.get(LISTED_COMMODITIES)
        if items is None:
            return
        errors, failed = [], False
        for item in items:
            row = DepositCommodity(deposit_id=candidate.pk, **item)
            try:
                row.clean()
            except DjangoValidationError as error:
                errors.append(error.message_dict)
                failed = True
            else:
                errors.append({})
        if failed:
            raise serializers.ValidationError({"commodities": errors})

    def create(self, validated_data):
        return self.update(Deposit(), validated_data)

    def update(self, instance, validated_data):
        items = validated_data.pop(LISTED_COMMODITIES, None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save()
        if items is not None:
            self._save_commodities(instance, items)
        return instance

    @staticmethod
    def _save_commodities(deposit, items) -> None:
        """Make the deposit's minerals exactly `items`, touching only rows that change
        (each change is one history record)."""
        existing = {c.mineral_id: c for c in DepositCommodity.objects.filter(deposit=deposit)}
        for item in items:
            row = existing.pop(item["mineral"].pk, None)
            changed = row is None
            if row is None:
                row = DepositCommodity(deposit=deposit, mineral=item["mineral"])
            for name, value in item.items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
                    changed = True
            if changed:
                row.save()
        for row in existing.values():
            row.delete()


class BalanceMovementSerializer(FullCleanMixin, ModelSerializer):
    """A line of the yearly State Balance; `deposit` is the deposit's public id. The
    closing must equal the opening plus the movements, and join the years around it."""

    deposit = SlugReferenceField(slug_field="public_id", queryset=Deposit.objects)
    mineral = code_field(Mineral)

    class Meta:
        model = BalanceMovement
        fields = [
            "id",
            "deposit",
            "mineral",
            "category",
            "balance",
            "year",
            "unit",
            "opening",
            *BalanceMovement.MOVEMENTS,
            "closing",
            "protocol",
            "source",
        ]


class BalanceClosureSerializer(FullCleanMixin, ModelSerializer):
    """A mineral's State Balance of one year, closed by the State Commission: the registry's
    balance of the mineral is complete up to the end of the latest closed year
    (`balance_complete_for`, deposits/balance.py)."""

    mineral = code_field(Mineral)

    class Meta:
        model = BalanceClosure
        fields = ["id", "mineral", "year", "closed_on", "protocol", "source"]
        # One closure per mineral and year is the model's constraint, refused by its own
        # check (FullCleanMixin) in the admin's words rather than DRF's.
        validators = []


class MovementInHistorySerializer(BalanceMovementSerializer):
    class Meta(BalanceMovementSerializer.Meta):
        fields = [f for f in BalanceMovementSerializer.Meta.fields if f != "deposit"]
        read_only_fields = fields


class ReserveHistorySerializer(serializers.Serializer):
    """Every estimate and State Balance line of a deposit, oldest first."""

    id = serializers.CharField(help_text=_("The deposit's public identifier."))
    estimates = DepositReserveSerializer(many=True)
    movements = MovementInHistorySerializer(many=True)
