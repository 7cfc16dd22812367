"""`/api/v1/webhooks/`: a key's holder subscribes URLs to the changes it may see.

Subscriptions belong to the key that made them and are listed to every key of the same
holder (organisation or staff user). Partner keys, read-only elsewhere, write here: a
subscription is theirs, not a registry record. The rules are the model's (`clean()`,
through FullCleanMixin, as the admin's form): an http(s) URL, known collections, a key
still valid, at most WEBHOOK_SUBSCRIPTIONS_PER_HOLDER subscriptions.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from deposits.models import Mineral, Region
from kernel.api.serializers import FullCleanMixin, ModelSerializer, SlugReferenceField
from kernel.models import ApiKey
from reports.changes import MODELS
from reports.models import WebhookDelivery, WebhookSubscription


class KeyHolder(permissions.BasePermission):
    """Only a request with an API key: subscriptions belong to a key, whose reading rights
    decide what they are sent."""

    message = _(
        "Webhook subscriptions belong to an API key: send one as 'Authorization: Token <key>'."
    )

    def has_permission(self, request, view):
        return isinstance(request.auth, ApiKey)


class WebhookSerializer(FullCleanMixin, ModelSerializer):
    collections = serializers.ListField(
        child=serializers.ChoiceField(choices=MODELS),
        required=False,
        help_text=_("The change feed's collections to send; empty or left out: every one."),
    )
    minerals = SlugReferenceField(
        many=True,
        slug_field="code",
        queryset=Mineral.objects.all(),
        required=False,
        help_text=_("Mineral codes; only deposits, reserves and balance lines of them."),
    )
    regions = SlugReferenceField(
        many=True,
        slug_field="code",
        queryset=Region.objects.all(),
        required=False,
        help_text=_("Region codes; only deposits, reserves and balance lines there."),
    )
    key = serializers.CharField(
        source="api_key.prefix",
        read_only=True,
        help_text=_("The first characters of the key the subscription reads as."),
    )

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "collections", "minerals", "regions", "note", "active", "key"]
        fields += ["created_at"]

    def validate(self, attrs):
        if self.instance is None:
            # The key that asks is the key the subscription reads as (and is counted on).
            attrs["api_key"] = self.context["request"].auth
        return super().validate(attrs)


class CreatedWebhookSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text=_("Signs every delivery (docs/api.md). Shown in this answer only: keep it."),
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class DeliverySerializer(ModelSerializer):
    changes = serializers.SerializerMethodField()

    class Meta:
        model = WebhookDelivery
        fields = ["id", "status", "attempts", "created_at", "last_attempt_at"]
        fields += ["next_attempt_at", "delivered_at", "response_status", "error", "changes"]

    def get_changes(self, delivery) -> int:
        """How many changes the last attempt carried (the changes themselves are read
        again from the feed, judged as of now)."""
        return delivery.sent_count


class WebhookViewSet(viewsets.ModelViewSet):
    """The webhook subscriptions of the key's holder (organisation or staff user). A
    create answers the subscription's `secret`, once. Deliveries carry the changes of
    the change feed the key may read, judged when each is sent (docs/api.md, "Webhooks")."""

    permission_classes = [KeyHolder]
    filter_backends = []
    serializer_class = WebhookSerializer

    def get_queryset(self):
        if not isinstance(self.request.auth, ApiKey):  # the schema's generation
            return WebhookSubscription.objects.none()
        return (
            WebhookSubscription.objects.of_holder(self.request.auth)
            .select_related("api_key")
            .prefetch_related("minerals", "regions")
        )

    @extend_schema(responses={201: CreatedWebhookSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = serializer.save()
        data = CreatedWebhookSerializer(subscription, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={200: DeliverySerializer(many=True)},
        description=_("The subscription's deliveries, newest first, with their outcome."),
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        rows = self.get_object().deliveries.all()
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)
