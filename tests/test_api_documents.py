"""PostgreSQL's read path of the deposits API (deposits/api/documents.py): the documents
the database builds are the serializer's, byte for byte once parsed, so ETags agree."""

import json

import psycopg
import pytest
from django.db import close_old_connections, connection
from django.db.models import Prefetch
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from deposits.api.documents import deposit_documents
from deposits.api.serializers import DepositSerializer
from deposits.models import Deposit, DepositCommodity, ReserveEstimate
from deposits.services import attach_reserve_shares
from kernel.api.conditional import etag_for
from tests.factories import CommodityFactory, DepositFactory
from tests.live_registry import needs_postgres

pytestmark = [pytest.mark.django_db, needs_postgres]

DEPOSITS = "/api/v1/deposits/"


def serialized(deposits) -> list[dict]:
    """What the serializer path answers for these deposits (in their order), as a client
    parses it."""
    position = {d.pk: n for n, d in enumerate(deposits)}
    deposits = sorted(
        Deposit.objects.filter(pk__in=[d.pk for d in deposits])
        .select_related("region", "district", "belt")
        .prefetch_related(
            Prefetch(
                "commodities",
                queryset=DepositCommodity.objects.select_related("mineral").order_by(
                    "role", "mineral__name", "mineral__code"
                ),
            ),
            Prefetch("reserves", queryset=ReserveEstimate.objects.select_related("mineral")),
        ),
        key=lambda d: position[d.pk],
    )
    attach_reserve_shares(deposits)
    return [json.loads(JSONRenderer().render(DepositSerializer(d).data)) for d in deposits]


@pytest.mark.parametrize("zone", ["Asia/Dushanbe", "UTC"])
def test_every_document_is_the_serializers(awkward_registry, zone):
    deposits = list(Deposit.objects.order_by("name", "id"))
    with timezone.override(zone):
        expected = serialized(deposits)
        built = deposit_documents([d.pk for d in deposits], "default")
    assert len(built) == len(deposits) > 50
    for document, wanted in zip(built, expected, strict=True):
        assert document == wanted, document["id"]
    shares = {c["reserve_share_pct"] for d in built for c in d["commodities"]}
    assert {"12.34", "12.36", "12.38"} <= shares  # rounded half to even, as DRF does
    stamps = {d["updated_at"] for d in built}
    assert ("2026-01-02T03:04:05Z" if zone == "UTC" else "2026-01-02T08:04:05+05:00") in stamps


def test_list_pages_filters_and_orders_as_the_serializer_path(api_client, awkward_registry):
    params = {"ordering": "-updated_at", "page_size": 7, "page": 2}
    page = api_client.get(DEPOSITS, params).json()
    assert page["count"] == Deposit.objects.filter(visibility="public").count()
    assert page["next"] and page["previous"]
    public = Deposit.objects.filter(visibility="public")
    in_order = list(public.order_by("-updated_at", "name", "id")[7:14])
    assert [d["id"] for d in page["results"]] == [d.public_id for d in in_order]
    assert page["results"] == serialized(in_order)


def test_detail_etag_is_the_one_a_write_checks(staff_api_client, awkward_registry):
    deposit = Deposit.objects.get(name="-minus")
    url = f"{DEPOSITS}{deposit.public_id}/"
    response = staff_api_client.get(url)
    [expected] = serialized([deposit])
    assert response.json() == expected
    assert response["ETag"] == etag_for(expected)
    patched = staff_api_client.patch(
        url, {"status": "producing"}, format="json", HTTP_IF_MATCH=response["ETag"]
    )
    assert patched.status_code == 200, patched.content


def test_hidden_and_unknown_records_are_404(api_client, awkward_registry):
    hidden = DepositFactory(name="Internal", visibility="internal")
    assert api_client.get(f"{DEPOSITS}{hidden.public_id}/").status_code == 404
    assert api_client.get(f"{DEPOSITS}TJD-999999/").status_code == 404
    # a detail honours the list's filters too, as DRF's get_object does
    public = Deposit.objects.filter(visibility="public").first()
    assert api_client.get(f"{DEPOSITS}{public.public_id}/").status_code == 200
    assert api_client.get(f"{DEPOSITS}{public.public_id}/", {"q": "zzz"}).status_code == 404
    assert api_client.get(f"{DEPOSITS}{public.public_id}/", {"q": "%"}).status_code == 404
    assert api_client.get(f"{DEPOSITS}{public.public_id}/", {"q": public.name}).status_code == 200


def test_queries_do_not_grow_with_the_page(api_client, django_assert_num_queries):
    for i in range(60):
        CommodityFactory(deposit=DepositFactory(name=f"D{i:02d}"))
    # count, the page's ids, the page's documents
    with django_assert_num_queries(3):
        api_client.get(DEPOSITS, {"page_size": 5})
    with django_assert_num_queries(3):
        api_client.get(DEPOSITS, {"page_size": 60})
    url = f"{DEPOSITS}{Deposit.objects.first().public_id}/"
    with django_assert_num_queries(1):  # the document, found by its id and visibility
        api_client.get(url)


def test_the_document_statements_are_prepared_once_per_connection(api_client, awkward_registry):
    def prepared(where: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return sum(where in statement for (statement,) in cursor.fetchall())

    for deposit in Deposit.objects.filter(visibility="public")[:3]:
        assert api_client.get(f"{DEPOSITS}{deposit.public_id}/").status_code == 200
    # three records, one statement (parameters are bound by the server)
    assert prepared("WHERE d.public_id = $2 AND d.visibility = ANY($3)") == 1
    api_client.get(DEPOSITS, {"page_size": 5})
    api_client.get(DEPOSITS, {"page_size": 9})
    assert prepared("WHERE d.id = ANY($2::bigint[])") == 1  # whatever the page size


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_connection_the_server_dropped_is_replaced_before_a_prepared_read(api_client):
    """Health checks (CONN_HEALTH_CHECKS) cover the prepared statements too: after a
    database restart, a worker's next read reconnects instead of failing."""
    url = f"{DEPOSITS}{DepositFactory().public_id}/"
    assert api_client.get(url).status_code == 200  # its statement prepared on this connection
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    close_old_connections()  # what each request starts with (the test client leaves it out)
    response = api_client.get(url)
    assert response.status_code == 200
    assert response.json()["id"] == url.split("/")[-2]
