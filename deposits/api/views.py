"""Viewsets of the deposits resources: regions, minerals, belts, deposits, reserves, statistics."""

import datetime

from django.db.models import Count, F, Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from deposits import exports
from deposits.api import stats
from deposits.api.serializers import (
    LISTED_COMMODITIES,
    LISTED_RESERVES,
    BalanceClosureSerializer,
    BalanceMovementSerializer,
    BeltSerializer,
    DepositSerializer,
    MineralSerializer,
    RegionSerializer,
    ReserveEstimateSerializer,
    ReserveHistorySerializer,
)
from deposits.filters import (
    BalanceClosureFilterSet,
    BalanceMovementFilterSet,
    DepositFilterSet,
    MineralFilterSet,
    ReserveEstimateFilterSet,
)
from deposits.models import (
    BalanceClosure,
    BalanceMovement,
    Deposit,
    MetallogenicBelt,
    Mineral,
    Region,
    ReserveEstimate,
)
from deposits.querysets import (
    document_estimates,
    minerals_with_deposit_counts,
    regions_with_deposit_counts,
    with_in_force,
)
from deposits.shares import commodities_with_shares, recorded_on
from kernel.api.caching import cached_read
from kernel.api.exports import EXPORT_FORMATS, CSVRenderer, GeoJSONRenderer
from kernel.api.permissions import ReadOnly
from kernel.api.viewsets import (
    RegistryModelViewSet,
    RegistryReadOnlyViewSet,
)
from kernel.parameters import as_of
from kernel.visibility import OPENS_FIGURES, OPENS_RECORD, visible

AS_OF_HEADER = "As-Of"
AS_OF_PARAMETER = OpenApiParameter(
    "as_of",
    {"type": "string", "format": "date"},
    description=(
        "The day the figures are as of (YYYY-MM-DD, from 1900-01-01 to today; today, the "
        "figures as recorded now, by default): shares, totals and reserve estimates in "
        "force on that day (docs/reserves.md). Every answer states its day in the "
        f"`{AS_OF_HEADER}` response header."
    ),
)


class AsOfMixin:
    """Reads of figures as of a day. `as_of` is read before the action (a 400 naming it
    when it is no day the registry can answer for) and every answer to such a read states
    its day in the `As-Of` header: JSON, CSV and GeoJSON alike, and cached answers too,
    since the header is set after the response cache has answered. The cache keys on the
    full URL, so each day's answer is kept apart."""

    # The reads that take `as_of`; other actions leave it None.
    as_of_actions = ("list", "retrieve")
    as_of: datetime.date | None = None  # the day the answer is as of (today when absent)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in ("GET", "HEAD") and self.action in self.as_of_actions:
            self.as_of = as_of(request.query_params)

    @property
    def figures_on(self) -> datetime.date | None:
        """The `on` of the share rule: None for the figures as recorded now."""
        return recorded_on(self.as_of)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.as_of is not None and response.status_code < 400:
            response[AS_OF_HEADER] = self.as_of.isoformat()
        return response


class RegionViewSet(RegistryReadOnlyViewSet):
    """Regions (ISO 3166-2:TJ) with the number of deposits the caller may see."""

    serializer_class = RegionSerializer
    permission_classes = [ReadOnly]
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return regions_with_deposit_counts(self.caller).order_by("code")


class MineralViewSet(RegistryReadOnlyViewSet):
    """Minerals (commodities) by code, with the number of deposits the caller may see."""

    serializer_class = MineralSerializer
    permission_classes = [ReadOnly]
    filterset_class = MineralFilterSet
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return minerals_with_deposit_counts(self.caller).order_by("code")


class BeltViewSet(RegistryReadOnlyViewSet):
    """Metallogenic belts, by code."""

    serializer_class = BeltSerializer
    permission_classes = [ReadOnly]
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return MetallogenicBelt.objects.annotate(
            deposit_count=Count("deposits", filter=visible(self.caller, "deposits__", OPENS_RECORD))
        ).order_by("code")


@extend_schema_view(
    list=extend_schema(
        description=(
            "Deposits the caller may see. `?format=csv` and `?format=geojson` stream the "
            "whole filtered list (not paged); `include=reserves` adds each mineral's "
            "reserves in force and share to them. `ordering=-share` sorts by reserve "
            "share (of the filtered mineral), `ordering=-quantity` by the balance A+B+C1 "
            "reserves in force of the one filtered mineral; deposits without the figure "
            "come last."
        )
    ),
    retrieve=extend_schema(parameters=[AS_OF_PARAMETER]),
)
class DepositViewSet(AsOfMixin, RegistryModelViewSet):
    """Deposits by public identifier (`TJD-000017`), with minerals, shares and reserves."""

    serializer_class = DepositSerializer
    filterset_class = DepositFilterSet
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[^/]+"
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer, GeoJSONRenderer]

    def get_renderers(self):
        renderers = super().get_renderers()
        if self.action != "list":
            renderers = [r for r in renderers if r.format not in EXPORT_FORMATS]
        return renderers

    def get_queryset(self):
        # The API has always listed a deposit's minerals by role name ("associated"
        # before "main"), then by mineral; the order is part of the document and of its
        # ETag, so it stays, though the pages list "main" first.
        commodities = commodities_with_shares(self.caller, self.figures_on).order_by(
            "role", "mineral__name", "mineral__code"
        )
        # The estimates recorded (by the day asked), each flagged in force on that day.
        reserves = document_estimates(self.figures_on, self.caller).select_related("mineral")
        queryset = (
            Deposit.objects.visible_to(self.caller)
            .select_related("region", "district", "belt")
            .prefetch_related(
                Prefetch("commodities", queryset=commodities, to_attr=LISTED_COMMODITIES),
                Prefetch("reserves", queryset=reserves, to_attr=LISTED_RESERVES),
            )
        )
        return self.lock_for_write(queryset)

    def filter_queryset(self, queryset):
        params = self.request.query_params
        if "visibility" in params and not self.caller.is_staff:
            raise exceptions.ValidationError(
                {"visibility": [_("Only staff keys may filter by visibility.")]}
            )
        # The pages' select also sends "unknown"; the API takes true or false only.
        if params.get("critical", "").lower() not in ("", "true", "false"):
            raise exceptions.ValidationError({"critical": [_("Give true or false.")]})
        return super().filter_queryset(queryset)

    def list(self, request, *args, **kwargs):
        export = {
            CSVRenderer.format: exports.csv_response,
            GeoJSONRenderer.format: exports.geojson_response,
        }.get(request.accepted_renderer.format)
        if export is not None:
            deposits = self.filter_queryset(self.get_queryset())
            extras = exports.Extras.of(request.query_params)
            return export(deposits, self.caller, self.figures_on, extras)
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        deposit = serializer.save()
        serializer.instance = self.get_object_for_response(deposit)

    def perform_update(self, serializer):
        deposit = serializer.save()
        serializer.instance = self.get_object_for_response(deposit)

    @extend_schema(responses=ReserveHistorySerializer)
    @action(detail=True, methods=["get"], url_path="reserve-history")
    def reserve_history(self, request, *args, **kwargs):
        """Every reserve estimate of the deposit, superseded ones too (`in_force`), and
        every line of its yearly State Balance, oldest first."""
        # A history of figures: a deposit a grant opens without its figures has none to show.
        with_figures = Deposit.objects.filter(visible(self.caller, opens=OPENS_FIGURES))
        deposit = get_object_or_404(with_figures, public_id=kwargs["id"])
        estimates = (
            document_estimates()
            .filter(deposit=deposit)
            .select_related("mineral")
            .order_by(
                "mineral__code", "category", "-balance", F("as_of").asc(nulls_first=True), "pk"
            )
        )
        movements = deposit.movements.select_related("mineral").order_by(
            "mineral__code", "category", "-balance", "year"
        )
        history = {"id": deposit.public_id, "estimates": estimates, "movements": movements}
        return Response(ReserveHistorySerializer(history).data)

    def get_object_for_response(self, deposit):
        """The saved deposit re-read as a read reads it: minerals with their shares
        (which the write may have moved), reserves."""
        return self.get_queryset().get(pk=deposit.pk)


class BalanceMovementViewSet(RegistryModelViewSet):
    """Lines of the yearly State Balance (opening, movements, closing), visible with their
    deposit only."""

    serializer_class = BalanceMovementSerializer
    filterset_class = BalanceMovementFilterSet

    def get_queryset(self):
        queryset = (
            BalanceMovement.objects.visible_to(self.caller)
            .select_related("deposit", "mineral")
            .order_by("deposit__public_id", "mineral__code", "category", "-balance", "year")
        )
        return self.lock_for_write(queryset)


class BalanceClosureViewSet(AsOfMixin, RegistryModelViewSet):
    """Closed State Balance years of each mineral (`balance_complete_for` in the statistics
    is the latest of them). Facts about a mineral, read by anyone; written by staff. With
    `as_of`, the closures recorded by that day."""

    as_of_actions = ("list",)

    serializer_class = BalanceClosureSerializer
    filterset_class = BalanceClosureFilterSet

    def get_queryset(self):
        queryset = BalanceClosure.objects.select_related("mineral").order_by(
            "mineral__code", "-year"
        )
        return self.lock_for_write(queryset)


class ReserveEstimateViewSet(AsOfMixin, RegistryModelViewSet):
    """Reserve estimates, each naming its deposit and flagged `in_force` (as of the day
    asked); visible with their deposit only. With `as_of`, the list holds the estimates in
    force on that day."""

    as_of_actions = ("list",)

    serializer_class = ReserveEstimateSerializer
    filterset_class = ReserveEstimateFilterSet
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        estimates = ReserveEstimate.objects.visible_to(self.caller)
        queryset = (
            with_in_force(estimates, self.figures_on)
            .select_related("deposit", "mineral")
            .order_by("deposit__public_id", "mineral__code", "category", "-as_of", "pk")
        )
        return self.lock_for_write(queryset)

    # A write may move the estimate, and others of its deposit, in or out of force: the
    # answer re-reads it as a read does.
    def perform_create(self, serializer):
        estimate = serializer.save()
        serializer.instance = self.get_queryset().get(pk=estimate.pk)

    def perform_update(self, serializer):
        estimate = serializer.save()
        serializer.instance = self.get_queryset().get(pk=estimate.pk)


@extend_schema_view(
    list=extend_schema(parameters=[stats.TOP_PARAMETER, AS_OF_PARAMETER]),
    retrieve=extend_schema(parameters=[stats.TOP_PARAMETER, AS_OF_PARAMETER]),
)
class _StatisticsViewSet(AsOfMixin, RegistryReadOnlyViewSet):
    permission_classes = [ReadOnly]
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def build(self, records, top: int) -> list[dict]:
        raise NotImplementedError

    # Answered through the API cache like every other read (`top` and `as_of` are in the
    # URL, so in the key).
    @cached_read
    def list(self, request, *args, **kwargs):
        top = stats.ranking_length(request.query_params)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = self.get_serializer(self.build(page, top), many=True).data
        return self.get_paginated_response(data)

    @cached_read
    def retrieve(self, request, *args, **kwargs):
        top = stats.ranking_length(request.query_params)
        record = self.get_object()
        return Response(self.get_serializer(self.build([record], top)[0]).data)


class MineralStatisticsViewSet(_StatisticsViewSet):
    """Per mineral: visible deposits, totals by GKZ category and unit, deposits by share."""

    serializer_class = stats.MineralStatisticsSerializer
    filterset_class = MineralFilterSet

    def get_queryset(self):
        return Mineral.objects.order_by("code")

    def build(self, minerals, top):
        return stats.mineral_statistics(minerals, self.caller, top, self.figures_on)


class RegionStatisticsViewSet(_StatisticsViewSet):
    """Per region: visible deposits and, per mineral, totals and deposits by share."""

    serializer_class = stats.RegionStatisticsSerializer

    def get_queryset(self):
        return Region.objects.order_by("code")

    def build(self, regions, top):
        return stats.region_statistics(regions, self.caller, top, self.figures_on)
