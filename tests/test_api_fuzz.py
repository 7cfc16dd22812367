"""No input breaks the API: Schemathesis fuzzes every operation of /api/schema/.

Every operation of the OpenAPI document (reads and writes) gets a bounded number
of generated requests (FUZZ_EXAMPLES each, 15 by default; derandomized, so CI
runs are repeatable) against the app in process, on the demo registry, sent with
a staff editor's key so writes reach the serializers and the database. Half of
the generated identifiers are swapped for real ones, so details, updates and
deletes reach real records and not only 404s. Each response must not be a 5xx
and must conform to the schema: status code documented, content type, headers
and body as described.

The schema has no OpenAPI links (drf-spectacular writes none), so there is no
stateful phase to run; the Location-free create → read chains are covered by the
API tests (tests/test_api_*.py).
"""

import json
import os
import re
import zlib
from io import StringIO
from urllib.parse import urlencode

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import UserFactory, issue_api_key

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))

# No 5xx, and every response as the schema documents it. Schemathesis' "positive data
# acceptance" is left out on purpose: a schema-valid body may still break a domain rule
# (an unknown mineral code, an event ending before it starts) and rightly answer 400.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# Real identifiers per path prefix, filled by the fixture from the demo registry.
KNOWN_IDS: dict[str, list[str]] = {}


@pytest.fixture
def api_app(db, settings):
    """The registry as a WSGI app, in process, over the demo registry."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1000000/minute", "key": "1000000/minute"},
    }
    call_command("load_demo", stdout=StringIO())
    from cooperation.models import Event, Initiative, Memorandum, Organisation, Person, Topic
    from deposits.models import Deposit, MetallogenicBelt, Mineral, Region, ReserveEstimate

    KNOWN_IDS.clear()
    for prefix, values in {
        "deposits": Deposit.objects.values_list("public_id", flat=True),
        "reserves": ReserveEstimate.objects.values_list("public_id", flat=True),
        "events": Event.objects.values_list("public_id", flat=True),
        "memoranda": Memorandum.objects.values_list("public_id", flat=True),
        "initiatives": Initiative.objects.values_list("public_id", flat=True),
        "organizations": Organisation.objects.values_list("public_id", flat=True),
        "people": Person.objects.values_list("public_id", flat=True),
        "topics": Topic.objects.values_list("public_id", flat=True),
        "regions": Region.objects.values_list("code", flat=True),
        "minerals": Mineral.objects.values_list("code", flat=True),
        "belts": MetallogenicBelt.objects.values_list("code", flat=True),
    }.items():
        KNOWN_IDS[prefix] = sorted(values)[:20]
    KNOWN_IDS["stats/minerals"] = KNOWN_IDS["minerals"]
    KNOWN_IDS["stats/regions"] = KNOWN_IDS["regions"]
    # As Django's test client does: the requests run inside the test's transaction, so
    # the connection must not be recycled between them (on PostgreSQL it would be closed).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def staff_headers(db):
    editor = UserFactory(username="fuzz-editor", groups=["Registry editors", "Cooperation editors"])
    return {"Authorization": f"Token {issue_api_key(user=editor)}"}


def openapi_document() -> dict:
    """The document /api/schema/ serves, built the same way without a request."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))


# Schemathesis' own pytest integration (from_fixture) does not run under pytest 9.2;
# its Python API does: one pytest test per operation, each a Hypothesis test.
SCHEMA = schemathesis.openapi.from_dict(openapi_document())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@schemathesis.hook
def map_path_parameters(ctx, path_parameters):
    """Every other generated identifier becomes a real one (chosen by the generated value,
    so runs stay repeatable)."""
    if not path_parameters:
        return path_parameters
    path = ctx.operation.path.removeprefix("/api/v1/")
    prefix = path.split("/{")[0]
    known = KNOWN_IDS.get(prefix)
    if not known:
        return path_parameters
    for name, value in path_parameters.items():
        digest = zlib.crc32(str(value).encode())
        if digest % 2 == 0:
            path_parameters[name] = known[(digest // 2) % len(known)]
    return path_parameters


def test_the_fuzzed_document_is_the_served_one(client):
    assert client.get("/api/schema/", {"format": "json"}).json() == openapi_document()
    assert len(OPERATIONS) >= 60


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op.method.upper()} {op.path}")
def test_no_input_breaks_the_api(operation, api_app, staff_headers):
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        cache.clear()  # throttle counters: the fuzzer is one fast client
        case.call_and_validate(headers=staff_headers, app=api_app, checks=CHECKS)

    fuzz()


# --- Every operation at the limits -----------------------------------------------------
# Generated data rarely reaches the ends of a range: every date, number and box parameter
# of every operation gets the extreme values here, and every JSON body a deep and a large
# one (kernel/parameters.py, kernel/api/parsers.py). No 5xx, and a refusal names the
# parameter.

EXTREMES = {
    "date-time": ["0001-01-01", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
                  "10000-01-01", "2026-02-30", "9" * 400],
    "integer": ["0", "-1", "99999999999999999999999999", "1e999", "NaN", "1.5", "１"],
    "number": ["-1", "1e999999999", "1e-999999999", "NaN", "Infinity", "9" * 400],
    "bbox": ["-180,-90,180,90", "1e-999999999,0,1,1", "1e999,0,1,1", "NaN,0,1,1", "0,0,0,0,0"],
}  # fmt: skip


def limit_values(parameter: dict) -> list[str]:
    schema = parameter.get("schema", {})
    kind = "bbox" if parameter["name"] == "bbox" else schema.get("format") or schema.get("type")
    return EXTREMES.get(kind, [])


def concrete(path: str) -> str:
    """The path with its identifier a real one."""
    prefix = path.removeprefix("/api/v1/").split("/{")[0]
    return re.sub(r"\{[^}]+\}", (KNOWN_IDS.get(prefix) or ["unknown"])[0], path)


def test_every_parameter_at_its_limits_and_every_deep_or_large_body(
    api_app, staff_headers, settings
):
    from django.test import Client

    staff = Client(HTTP_AUTHORIZATION=staff_headers["Authorization"])
    tried = 0
    for path, operations in openapi_document()["paths"].items():
        url = concrete(path)
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query":
                    continue
                for value in limit_values(parameter):
                    cache.clear()
                    params = {parameter["name"]: value}
                    if "since" not in params and any(
                        p["name"] == "since" for p in operation["parameters"]
                    ):
                        params["since"] = "2026-01-01"
                    response = staff.generic(method.upper(), f"{url}?{urlencode(params)}")
                    tried += 1
                    assert response.status_code < 500, (method, url, params)
                    if response.status_code == 400:
                        assert parameter["name"] in response.json(), (url, params)
            if "requestBody" not in operation:
                continue
            headers = {}
            if method in ("put", "patch"):
                headers["HTTP_IF_MATCH"] = staff.get(url)["ETag"]
            for body in ("[" * 5000 + "]" * 5000, '{"name": ' + "[" * 40 + "]" * 40 + "}"):
                cache.clear()
                response = staff.generic(
                    method.upper(), url, body, content_type="application/json", **headers
                )
                tried += 1
                assert response.status_code == 400, (method, url, response.content[:200])
                assert "levels deep" in response.json()["detail"]
            big = '{"name": "' + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + '"}'
            response = staff.generic(
                method.upper(), url, big, content_type="application/json", **headers
            )
            tried += 1
            assert response.status_code == 413, (method, url)
    assert tried > 300  # docs/reliability.md reports the count


# --- What the fuzzing found, pinned --------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "since", ["0001-01-01", "0001-01-01T12:24:22+23:50", "9999-12-31T23:59:59-23:00"]
)
def test_changes_since_the_edges_of_the_calendar_is_not_a_500(api_client, since):
    """A `since` within a day of year 1 or 9999 left the calendar when shifted to UTC."""
    response = api_client.get("/api/v1/changes/", {"since": since})
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("resource", ["events", "memoranda"])
@pytest.mark.parametrize("year", ["7.016720699945175e+16", "2020.5", "10000"])
def test_an_impossible_year_is_a_400_not_a_500(api_client, resource, year):
    response = api_client.get(f"/api/v1/{resource}/", {"year": year})
    assert response.status_code == 400
    assert "year" in response.json()


def test_the_schema_documents_what_the_api_really_answers():
    components = openapi_document()["components"]["schemas"]
    # Read-only fields that may be blank or null (DRF drops allow_blank/allow_null there).
    assert {"$ref": "#/components/schemas/BlankEnum"} in components["Memorandum"]["properties"][
        "status"
    ]["oneOf"]
    assert components["Participant"]["properties"]["person"]["nullable"] is True
    # Exports are not the paged JSON.
    content = openapi_document()["paths"]["/api/v1/deposits/"]["get"]["responses"]["200"]["content"]
    assert content["text/csv"]["schema"]["type"] == "string"
    assert content["application/geo+json"]["schema"]["properties"]["type"]["enum"] == [
        "FeatureCollection"
    ]
