"""CSV and GeoJSON exports over the awkward registry (tests/conftest.py): cells that look
like formulas or hold tabs, quotes and line breaks, both kinds of share, and the list's
filters and orders kept by the CSV. The registry is made once for the module."""

import csv
import io
import json

import pytest
from django.utils import translation

from deposits.models import Deposit
from tests.test_api_exports import DEPOSITS, body, csv_rows

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("awkward_for_module")]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_awkward_cells_survive_the_csv(staff_api_client, language):
    """Formula triggers, tabs, quotes, line breaks and both share bases, in every language."""
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    text = body(staff_api_client.get(DEPOSITS, {"format": "csv"}, **headers))
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert len(rows) == Deposit.objects.count() + 1
    for corner in (
        "'=cmd",
        "'-minus",
        "'\ttab",
        "'+plus",
        "'@at",
        "% (computed over all)",
        "% (reported)",
    ):
        assert corner in text
    names = {row[1] for row in rows[1:]}
    assert {'\'=cmd|"/c calc"', "'-minus", "'\ttab", 'Quote "and", comma'} <= names
    with translation.override(language):
        explored = str(Deposit.Status.EXPLORED.label)
    status = rows[0].index("Status")
    assert explored in {row[status] for row in rows[1:]}  # the status in the caller's language
    features = json.loads(body(staff_api_client.get(DEPOSITS, {"format": "geojson"})))
    assert len(features["features"]) == Deposit.objects.count()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"ordering": "-region"},
        {"ordering": "-updated_at"},
        {"mineral": "silver"},
        {"ordering": "-share"},
        {"ordering": "share", "mineral": "test-lead"},
        {"ordering": "-quantity", "mineral": "test-gold"},
    ],
)
def test_csv_keeps_the_filter_and_order_of_the_list(staff_api_client, params):
    listed = staff_api_client.get(DEPOSITS, {**params, "page_size": 200}).json()["results"]
    rows = csv_rows(staff_api_client.get(DEPOSITS, {**params, "format": "csv"}))
    assert len(rows) >= 3
    assert [row["Identifier"] for row in rows] == [deposit["id"] for deposit in listed]
