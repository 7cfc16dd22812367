"""The registry's ModelSerializer builds its fields from the model once per class
(kernel/api/serializers.py): a read makes no field from the model again, and each
serializer still holds fields of its own, bound to it alone."""

import pytest
from rest_framework import serializers

from deposits.api.serializers import (
    BalanceMovementSerializer,
    DepositSerializer,
    MovementInHistorySerializer,
    ReserveEstimateSerializer,
)
from tests.factories import CommodityFactory, DepositFactory, ReserveEstimateFactory

pytestmark = pytest.mark.django_db


def test_a_records_read_builds_no_field_from_the_model_after_the_first(api_client, monkeypatch):
    deposit = DepositFactory()
    CommodityFactory(deposit=deposit)
    ReserveEstimateFactory(deposit=deposit)
    url = f"/api/v1/deposits/{deposit.public_id}/"
    first = api_client.get(url)
    built = []
    original = serializers.ModelSerializer.build_field

    def counted(self, *args, **kwargs):
        built.append(type(self).__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(serializers.ModelSerializer, "build_field", counted)
    again = api_client.get(url)
    assert built == []
    assert again.status_code == 200 and again.content == first.content


def test_each_serializer_holds_its_own_fields_bound_to_it():
    one, other = DepositSerializer(), DepositSerializer()
    assert one.fields["name"] is not other.fields["name"]
    assert one.fields["name"].parent is one and other.fields["name"].parent is other
    assert one.fields["commodities"].child is not other.fields["commodities"].child
    # A subclass with fields of its own keeps its own: the history's movements name no deposit.
    assert "deposit" not in MovementInHistorySerializer().fields
    assert "deposit" in BalanceMovementSerializer().fields
    assert set(ReserveEstimateSerializer().fields) >= {"deposit", "mineral", "quantity"}
