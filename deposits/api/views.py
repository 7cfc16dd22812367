"""Viewsets of the deposits resources: regions, minerals, belts, deposits, reserves, statistics."""

from django.db.models import Count, Prefetch
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from deposits.api import exports, stats
from deposits.api.documents import (
    deposit_document,
    deposit_documents,
    visible_deposit_document,
)
from deposits.api.serializers import (
    BeltSerializer,
    DepositSerializer,
    MineralSerializer,
    RegionSerializer,
    ReserveEstimateSerializer,
)
from deposits.filters import DepositFilterSet, MineralFilterSet, ReserveEstimateFilterSet
from deposits.models import (
    Deposit,
    DepositCommodity,
    MetallogenicBelt,
    Mineral,
    Region,
    ReserveEstimate,
)
from deposits.services import attach_reserve_shares
from kernel.api.exports import EXPORT_FORMATS, CSVRenderer, GeoJSONRenderer
from kernel.api.permissions import ReadOnly
from kernel.api.prepared import built_by_database
from kernel.api.viewsets import (
    RegistryModelViewSet,
    RegistryReadOnlyViewSet,
)
from kernel.visibility import visible


class RegionViewSet(RegistryReadOnlyViewSet):
    """Regions (ISO 3166-2:TJ) with the number of deposits the caller may see."""

    serializer_class = RegionSerializer
    permission_classes = [ReadOnly]
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return Region.objects.annotate(
            deposit_count=Count("deposits", filter=visible(self.caller, "deposits__"))
        ).order_by("code")


class MineralViewSet(RegistryReadOnlyViewSet):
    """Minerals (commodities) by code, with the number of deposits the caller may see."""

    serializer_class = MineralSerializer
    permission_classes = [ReadOnly]
    filterset_class = MineralFilterSet
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return Mineral.objects.annotate(
            deposit_count=Count(
                "commodities",
                filter=visible(self.caller, "commodities__deposit__"),
            )
        ).order_by("code")


class BeltViewSet(RegistryReadOnlyViewSet):
    """Metallogenic belts, by code."""

    serializer_class = BeltSerializer
    permission_classes = [ReadOnly]
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return MetallogenicBelt.objects.annotate(
            deposit_count=Count("deposits", filter=visible(self.caller, "deposits__"))
        ).order_by("code")


@extend_schema_view(
    list=extend_schema(
        description=(
            "Deposits the caller may see. `?format=csv` and `?format=geojson` stream the "
            "whole filtered list (not paged)."
        )
    )
)
class DepositViewSet(RegistryModelViewSet):
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
        commodities = DepositCommodity.objects.select_related("mineral").order_by(
            "role", "mineral__name", "mineral__code"
        )
        reserves = ReserveEstimate.objects.select_related("mineral")
        queryset = (
            Deposit.objects.visible_to(self.caller)
            .select_related("region", "district", "belt")
            .prefetch_related(
                Prefetch("commodities", queryset=commodities),
                Prefetch("reserves", queryset=reserves),
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

    def prepare_objects(self, deposits) -> None:
        attach_reserve_shares(deposits)

    def list(self, request, *args, **kwargs):
        export = {
            CSVRenderer.format: exports.deposits_csv,
            GeoJSONRenderer.format: exports.deposits_geojson,
        }.get(request.accepted_renderer.format)
        if export is not None:
            return export(self.filter_queryset(self.get_queryset()))
        if built_by_database(Deposit.objects.all()):
            return self.list_documents(request)
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        if built_by_database(Deposit.objects.all()):
            return self.retrieve_document(request)
        return super().retrieve(request, *args, **kwargs)

    # PostgreSQL's read path: the documents built by the database (deposits.api.documents),
    # the same JSON as the serializer's, paged and filtered as the serializer's.
    def visible_ids(self):
        queryset = self.filter_queryset(Deposit.objects.visible_to(self.caller))
        return queryset.values_list("pk", flat=True)

    def list_documents(self, request):
        ids = self.visible_ids()
        page = self.paginator.paginate_queryset(ids, request, view=self)
        return self.get_paginated_response(deposit_documents(page, ids.db))

    def retrieve_document(self, request):
        public_id = self.kwargs[self.lookup_url_kwarg]
        # The list's filters narrow a record too (as DRF's get_object), when any are given;
        # without them neither the filterset nor an ORM query is built (most of the time
        # of a record's answer).
        if set(request.query_params) - {"format", "api_key"}:
            ids = self.visible_ids().filter(**{self.lookup_field: public_id})
            document = deposit_document(ids)
        else:
            document = visible_deposit_document(public_id, self.caller.levels, Deposit.objects.db)
        if document is None:  # as get_object_or_404 says it
            raise Http404(f"No {Deposit._meta.object_name} matches the given query.")
        return Response(document)

    def perform_create(self, serializer):
        deposit = serializer.save()
        serializer.instance = self.get_object_for_response(deposit)

    def perform_update(self, serializer):
        deposit = serializer.save()
        serializer.instance = self.get_object_for_response(deposit)

    def get_object_for_response(self, deposit):
        """The saved deposit re-read with its minerals, reserves and shares."""
        deposit = self.get_queryset().get(pk=deposit.pk)
        attach_reserve_shares([deposit])
        return deposit


class ReserveEstimateViewSet(RegistryModelViewSet):
    """Reserve estimates, each naming its deposit; visible with their deposit only."""

    serializer_class = ReserveEstimateSerializer
    filterset_class = ReserveEstimateFilterSet
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        queryset = (
            ReserveEstimate.objects.visible_to(self.caller)
            .select_related("deposit", "mineral")
            .order_by("deposit__public_id", "mineral__code", "category", "-as_of", "pk")
        )
        return self.lock_for_write(queryset)


@extend_schema_view(
    list=extend_schema(parameters=[stats.TOP_PARAMETER]),
    retrieve=extend_schema(parameters=[stats.TOP_PARAMETER]),
)
class _StatisticsViewSet(RegistryReadOnlyViewSet):
    permission_classes = [ReadOnly]
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def build(self, records, top: int) -> list[dict]:
        raise NotImplementedError

    # Answered through the API cache like every other read (`top` is in the URL, so in
    # the key).
    def list(self, request, *args, **kwargs):
        top = stats.ranking_length(request.query_params)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = self.get_serializer(self.build(page, top), many=True).data
        return self.get_paginated_response(data)

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
        return stats.mineral_statistics(minerals, Deposit.objects.visible_to(self.caller), top)


class RegionStatisticsViewSet(_StatisticsViewSet):
    """Per region: visible deposits and, per mineral, totals and deposits by share."""

    serializer_class = stats.RegionStatisticsSerializer

    def get_queryset(self):
        return Region.objects.order_by("code")

    def build(self, regions, top):
        return stats.region_statistics(regions, Deposit.objects.visible_to(self.caller), top)
