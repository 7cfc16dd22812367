"""The base of every registry viewset: visibility, conditional requests, safe writes."""

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from kernel import access
from kernel.api.caching import CachedReadsMixin
from kernel.api.conditional import VERSIONED_WRITES, ConditionalRequestMixin
from kernel.api.exports import EXPORT_FORMATS
from kernel.visibility import Caller


def with_tiebreaker(queryset):
    """The queryset ordered down to the primary key, so walking the pages of a list
    visits every record exactly once (`ordering=region` alone would not). Ties of an
    explicit ordering fall back to the model's default ordering (by name, ...)."""
    query = queryset.query
    default = list(query.get_meta().ordering)
    ordering = list(query.order_by) or (default if query.default_ordering else [])
    for term in [*default, "pk"]:
        names = {o.lstrip("-") for o in ordering if isinstance(o, str)}
        if names & {"pk", "id"}:
            break
        if not isinstance(term, str) or term.lstrip("-") not in names:
            ordering.append(term)
    return queryset.order_by(*ordering)


class RegistryViewSetMixin(ConditionalRequestMixin):
    """Shared behaviour of the registry's viewsets.

    - `caller` is who reads (kernel.visibility), for `visible_to(caller)`.
    - An unknown `?format=` is a 400 naming `format`, not DRF's bare 404.
    - Errors of a CSV/GeoJSON request are answered in JSON, the one error format.
    - Lists are ordered down to the primary key (stable paging).
    - Writes lock the record; updates and deletes need a current If-Match (428/412).
    """

    @property
    def caller(self) -> Caller:
        return Caller.of(self.request)

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:
            formats = ", ".join(r.format for r in self.get_renderers())
            raise exceptions.ValidationError(
                {"format": [_("Unknown format; use one of: %s.") % formats]}
            ) from None

    def handle_exception(self, exc):
        renderer = getattr(self.request, "accepted_renderer", None)
        if renderer is not None and renderer.format in EXPORT_FORMATS:
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        # Answers from the cache and streamed exports come marked already.
        returned = self.returned(request, response)
        if returned is None:
            return super().finalize_response(request, response, *args, **kwargs)
        access.mark(response, returned)  # so the answer the cache keeps carries it
        response = super().finalize_response(request, response, *args, **kwargs)
        if access.marked(response) is None:  # a 304 instead of the answer
            access.mark(response, returned)
        return response

    def returned(self, request, response) -> access.Returned | None:
        """What a successful read's data carries, for the access record (kernel/access.py):
        a page's records, or one record's identifier and its deposit's."""
        if request.method not in access.READS or not isinstance(response, Response):
            return None
        data = response.data
        if response.status_code != 200 or data is None:
            return None
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            return access.Returned(count=len(data["results"]))
        if isinstance(data, list):
            return access.Returned(count=len(data))
        if getattr(self, "detail", False) and isinstance(data, dict):
            found = (data.get("id"), data.get("deposit"))
            identifiers = tuple(i for i in found if isinstance(i, str))
            return access.Returned(count=1, identifiers=identifiers)
        return None

    def get_object(self):
        instance = super().get_object()
        if self.request.method not in SAFE_METHODS:
            self.check_if_match(instance)
        return instance

    def filter_queryset(self, queryset):
        if self.detail and not self.request.query_params:
            # Nothing can narrow the record: the list's filter set need not be built.
            return queryset
        return with_tiebreaker(super().filter_queryset(queryset))

    def lock_for_write(self, queryset):
        """Row lock for the duration of a write's transaction (no lost updates): an update,
        a delete, or a write action on a record (a memorandum's transition), so the
        version its If-Match names is still the version written."""
        if self.request.method in VERSIONED_WRITES or self.request.method == "POST":
            return queryset.select_for_update(of=("self",))
        return queryset


class RegistryReadOnlyViewSet(
    RegistryViewSetMixin, CachedReadsMixin, viewsets.ReadOnlyModelViewSet
):
    pass


class RegistryModelViewSet(RegistryViewSetMixin, CachedReadsMixin, viewsets.ModelViewSet):
    """Read and write; each write is one transaction (the record and its history rows)."""

    def create(self, request, *args, **kwargs):
        with transaction.atomic():
            return super().create(request, *args, **kwargs)

    def update(self, request, *args, **kwargs):
        with transaction.atomic():
            return super().update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            return super().destroy(request, *args, **kwargs)
