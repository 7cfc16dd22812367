"""State Balance closures over the API (`balance/closures/`): read by anyone, written by
staff with the model permission, bad input a 400 naming the field, nothing saved; the
closures listed as of a day are the ones `balance_complete_for` counts on that day."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deposits.balance import balance_complete_for
from deposits.models import BalanceClosure
from tests.factories import MineralFactory

pytestmark = pytest.mark.django_db

CLOSURES = "/api/v1/balance/closures/"
SOURCE = "State Commission on Mineral Reserves"


@pytest.fixture
def closures():
    """Silver closed for 2022 (in March 2023) and 2023 (in March 2024); gold for 2023."""
    silver = MineralFactory()
    gold = MineralFactory(code="gold", symbol="Au", name="Gold")
    for mineral, year in ((silver, 2022), (silver, 2023), (gold, 2023)):
        BalanceClosure.objects.create(
            mineral=mineral,
            year=year,
            closed_on=datetime.date(year + 1, 3, 15),
            protocol=f"GKZ-{year}-7",
            source=SOURCE,
        )
    return {"silver": silver, "gold": gold}


def listed(response) -> list[tuple]:
    return [(c["mineral"], c["year"]) for c in response.json()["results"]]


def test_anyone_reads_the_closures(api_client, partner_client, closures):
    for client in (api_client, partner_client):
        response = client.get(CLOSURES)
        assert response.status_code == 200
        assert listed(response) == [("gold", 2023), ("silver", 2023), ("silver", 2022)]
    (first, *_rest) = api_client.get(CLOSURES).json()["results"]
    assert first == {
        "id": first["id"],
        "mineral": "gold",
        "year": 2023,
        "closed_on": "2024-03-15",
        "protocol": "GKZ-2023-7",
        "source": SOURCE,
    }
    one = api_client.get(f"{CLOSURES}{first['id']}/")
    assert one.status_code == 200 and one.json() == first and one["ETag"]


def test_filters_and_as_of_agree_with_balance_complete_for(api_client, closures):
    assert listed(api_client.get(CLOSURES, {"mineral": "silver"})) == [
        ("silver", 2023),
        ("silver", 2022),
    ]
    assert listed(api_client.get(CLOSURES, {"year": "2022"})) == [("silver", 2022)]
    # At the end of 2023, the 2023 balance (closed in March 2024) was not yet closed.
    day = datetime.date(2023, 12, 31)
    response = api_client.get(CLOSURES, {"mineral": "silver", "as_of": day.isoformat()})
    assert response["As-Of"] == "2023-12-31"
    assert listed(response) == [("silver", 2022)]
    latest = max(year for _mineral, year in listed(response))
    assert latest == balance_complete_for(closures["silver"], day) == 2022
    stats = api_client.get("/api/v1/stats/minerals/silver/", {"as_of": day.isoformat()})
    assert stats.json()["balance_complete_for"] == 2022
    assert api_client.get("/api/v1/stats/minerals/silver/").json()["balance_complete_for"] == 2023


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"year": "1800"}, "year"),
        ({"year": "2023.5"}, "year"),
        ({"year": "abc"}, "year"),
        ({"as_of": "2023-02-30"}, "as_of"),
        ({"as_of": "9999-12-31"}, "as_of"),
        ({"mineral": "unobtainium"}, "mineral"),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(api_client, closures, params, field):
    response = api_client.get(CLOSURES, params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_the_list_costs_the_same_queries_however_long(api_client, closures):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api_client.get(CLOSURES).status_code == 200
        return len(captured)

    few = queries()
    for year in range(2000, 2020):
        BalanceClosure.objects.create(
            mineral=closures["gold"],
            year=year,
            closed_on=datetime.date(year + 1, 2, 1),
            source=SOURCE,
        )
    assert queries() == few


def closure(**fields) -> dict:
    return {
        "mineral": "silver",
        "year": 2024,
        "closed_on": "2025-03-20",
        "protocol": "GKZ-2024-3",
        "source": SOURCE,
        **fields,
    }


def test_staff_close_a_year_with_history(staff_api_client, editor, closures):
    response = staff_api_client.post(CLOSURES, closure(), format="json")
    assert response.status_code == 201, response.json()
    created = BalanceClosure.objects.get(pk=response.json()["id"])
    assert (created.mineral.code, created.year) == ("silver", 2024)
    assert created.history.get().history_user == editor
    assert balance_complete_for(closures["silver"]) == 2024


def test_anyone_but_staff_is_refused_a_write(api_client, partner_client, closures):
    assert api_client.post(CLOSURES, closure(), format="json").status_code == 401
    assert partner_client.post(CLOSURES, closure(), format="json").status_code == 403
    assert not BalanceClosure.objects.filter(year=2024).exists()


def test_staff_without_the_permission_are_refused(viewer_api_client, closures):
    assert viewer_api_client.post(CLOSURES, closure(), format="json").status_code == 403


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"mineral": "unobtainium"}, "mineral", ""),
        ({"mineral": None}, "mineral", ""),
        ({"year": 1800}, "year", ""),
        ({"year": "twenty"}, "year", ""),
        ({"closed_on": "2024-12-31"}, "closed_on", "on or after 1 January 2025"),
        ({"closed_on": "2025-02-30"}, "closed_on", ""),
        ({"closed_on": "2999-01-01"}, "closed_on", "in the future"),
        ({"source": ""}, "source", ""),
        ({"year": 2023, "closed_on": "2024-05-01"}, "non_field_errors", "already exists"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_saved(
    staff_api_client, closures, fields, field, message
):
    before = list(BalanceClosure.objects.values_list("pk", "mineral_id", "year", "closed_on"))
    response = staff_api_client.post(CLOSURES, closure(**fields), format="json")
    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert list(BalanceClosure.objects.values_list("pk", "mineral_id", "year", "closed_on")) == (
        before
    )


def test_a_correction_needs_the_version_read(staff_api_client, closures):
    record = BalanceClosure.objects.get(mineral__code="gold")
    url = f"{CLOSURES}{record.pk}/"
    etag = staff_api_client.get(url)["ETag"]
    change = {"protocol": "GKZ-2023-7a"}
    assert staff_api_client.patch(url, change, format="json").status_code == 428
    stale = staff_api_client.patch(url, change, format="json", HTTP_IF_MATCH='"stale"')
    assert stale.status_code == 412
    response = staff_api_client.patch(url, change, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200 and response.json()["protocol"] == "GKZ-2023-7a"
    etag = staff_api_client.get(url)["ETag"]
    bad = staff_api_client.patch(
        url, {"closed_on": "2023-06-01"}, format="json", HTTP_IF_MATCH=etag
    )
    assert bad.status_code == 400 and list(bad.json()) == ["closed_on"]
    etag = staff_api_client.get(url)["ETag"]
    assert staff_api_client.delete(url, HTTP_IF_MATCH=etag).status_code == 204
    assert balance_complete_for(closures["gold"]) is None
