"""Search as you type: `GET /api/v1/search/?q=` answers the deposits, minerals, regions,
districts, organisations and events whose names come nearest to what was typed, in any
spelling (the name matcher, kernel/names.py; docs/search.md), best first. Only records
the caller may see are suggested. Answers are kept like every API read
(kernel/api/caching.py): what one reader types, the next is answered from the cache
until the registry changes."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from cooperation import suggestions as cooperation_suggestions
from deposits import suggestions as deposit_suggestions
from deposits.models import MAX_QUERY_LENGTH
from kernel import names
from kernel.api.caching import cached_read
from kernel.api.permissions import ReadOnly
from kernel.api.viewsets import RegistryViewSetMixin

KINDS = ["deposit", "mineral", "region", "district", "organisation", "event"]
DEFAULT_LIMIT, MAX_LIMIT = 10, 50


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=MAX_QUERY_LENGTH,
        help_text=_("What was typed: a name in any spelling, Latin or Cyrillic."),
    )
    limit = serializers.IntegerField(
        min_value=1,
        max_value=MAX_LIMIT,
        default=DEFAULT_LIMIT,
        help_text=_("How many suggestions at most (1-50, 10 by default)."),
    )


class SuggestionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS)
    id = serializers.CharField(
        help_text=_(
            "Public id (deposits, organisations, events) or code (minerals, regions, districts)."
        )
    )
    label = serializers.CharField(help_text=_("The name in the request's language."))
    url = serializers.CharField(
        help_text=_("The path of the record's page on this site (a district's is its region's).")
    )
    score = serializers.FloatField(
        help_text=_(
            "How well the name answers the query, 0-100: 100 the same name in another "
            "spelling, 90-95 a name starting with it, 88-89 one of its words, 80-85 a part "
            "of it, 60-75 a similar name."
        )
    )


@extend_schema_serializer(many=False)  # one object holding the list, not a list
class SearchAnswerSerializer(serializers.Serializer):
    results = SuggestionSerializer(many=True)


class SearchViewSet(RegistryViewSetMixin, viewsets.GenericViewSet):
    """Search as you type: records whose names answer `q` in any spelling, best first."""

    permission_classes = [ReadOnly]
    serializer_class = SuggestionSerializer
    filter_backends = []
    pagination_class = None

    @extend_schema(
        parameters=[SearchQuerySerializer],
        responses=SearchAnswerSerializer,
        description=(
            "Deposits, minerals, regions, districts, organisations and events whose names "
            "come nearest to `q` in any spelling (Latin or Cyrillic, Tajik or Russian; "
            "docs/search.md), best first, then by kind. Only records the caller may see. "
            "A query of fewer than two letters or digits answers no results; an empty or "
            "over-long one a 400."
        ),
    )
    @cached_read
    def list(self, request, *args, **kwargs):
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        text, limit = query.validated_data["q"], query.validated_data["limit"]
        if len(names.key(text)) < names.MIN_QUERY_LENGTH:
            return Response(SearchAnswerSerializer({"results": []}).data)  # nothing to match
        found = deposit_suggestions.suggestions(text, self.caller, limit)
        found += cooperation_suggestions.suggestions(text, self.caller)
        found.sort(key=lambda s: (-s.score, KINDS.index(s.kind)))
        answer = SearchAnswerSerializer({"results": found[:limit]})
        return Response(answer.data)
