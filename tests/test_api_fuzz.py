"""No input breaks the API: Schemathesis fuzzes every operation of /api/schema/.

Every operation of the OpenAPI document (reads and writes) gets a bounded number
of generated requests (FUZZ_EXAMPLES each, 15 by default; derandomized, so CI
runs are repeatable) against the app in process, on the demo registry, sent with
a staff editor's key so writes reach the serializers and the database. Half of
the generated identifiers are swapped for real ones, so details, updates and
deletes reach real records and not only 404s. Each response must not be a 5xx
and must conform to the schema: status code documented, content type, headers
and body as described.

A stateful run follows the schema's OpenAPI links (kernel/api/schema.py): create a
record, read it, update or delete it with the ETag it read (or without one, straight
after the create: 428), read it again. Every refused write (4xx) must have changed
nothing: no record's row or history, nor the representation of the record it aimed at.

How many inputs each class tried, and their answers, go to
test-artifacts/fuzz-<database>.json (docs/reliability.md quotes them).
"""

import json
import os
import re
import time
import zlib
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connection, transaction
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config._phases import InferenceConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from tests.factories import UserFactory, issue_api_key

# Every test runs over the demo registry, loaded once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("demo_for_module")

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
# The stateful run: scenarios, and API calls at most in each.
SCENARIOS = int(os.environ.get("FUZZ_SCENARIOS", "100"))
STEPS = int(os.environ.get("FUZZ_STEPS", "10"))
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

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

# What each class of input tried and what it got back, "class: answer" -> count.
TRIED: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_what_was_tried():
    TRIED.clear()
    yield
    if TRIED:
        ARTIFACTS.mkdir(exist_ok=True)
        report = ARTIFACTS / f"fuzz-{connection.vendor}.json"
        report.write_text(json.dumps(dict(sorted(TRIED.items())), indent=2) + "\n")


def tally(kind: str, status: int) -> None:
    TRIED[f"{kind}: requests"] += 1
    TRIED[f"{kind}: {status // 100}xx"] += 1


@pytest.fixture
def api_app(db, settings, demo_for_module):
    """The registry as a WSGI app, in process, over the demo registry."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1000000/minute", "key": "1000000/minute"},
    }
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
# The stateful run follows the links the schema documents, not links Schemathesis guesses.
SCHEMA.config.phases.stateful.inference = InferenceConfig(algorithms=[])
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
        response = case.call(headers=staff_headers, app=api_app)
        tally("generated", response.status_code)
        case.validate_response(response, checks=CHECKS)

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


def usual_value(parameter: dict) -> str:
    """A required parameter's everyday value, so the one at its limits is what is judged."""
    schema = parameter.get("schema", {})
    if schema.get("format") in ("date", "date-time") or parameter["name"] == "since":
        return "2026-01-01"
    return "1" if schema.get("type") in ("integer", "number") else "silver"


def concrete(path: str) -> str:
    """The path with its identifier a real one."""
    prefix = path.removeprefix("/api/v1/").split("/{")[0]
    return re.sub(r"\{[^}]+\}", (KNOWN_IDS.get(prefix) or ["unknown"])[0], path)


def test_every_parameter_at_its_limits_and_every_deep_or_large_body(
    api_app, staff_headers, settings
):
    from django.test import Client

    staff = Client(HTTP_AUTHORIZATION=staff_headers["Authorization"])
    # Every write below is refused (no If-Match, a bad parameter or body): none may change
    # a row, nor add a history row.
    before = stored_state(None, staff_headers["Authorization"])
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
                    for other in operation["parameters"]:  # the feed's since, search's q
                        needed = other["name"] == "since" or other.get("required")
                        if needed and other["in"] == "query" and other["name"] not in params:
                            params[other["name"]] = usual_value(other)
                    response = staff.generic(method.upper(), f"{url}?{urlencode(params)}")
                    tally("parameter at its limits", response.status_code)
                    tried += 1
                    assert response.status_code < 500, (method, url, params)
                    if response.status_code == 400:
                        assert parameter["name"] in response.json(), (url, params)
            if "requestBody" not in operation:
                continue
            headers = {}
            if method in ("put", "patch"):
                etag = staff.get(url).get("ETag")
                if etag is None:  # no record of this kind among KNOWN_IDS to aim at
                    TRIED[f"body: no record for {method.upper()} {path}"] += 1
                    continue
                headers["HTTP_IF_MATCH"] = etag
            for body in ("[" * 5000 + "]" * 5000, '{"name": ' + "[" * 40 + "]" * 40 + "}"):
                cache.clear()
                response = staff.generic(
                    method.upper(), url, body, content_type="application/json", **headers
                )
                tally("deep body", response.status_code)
                tried += 1
                assert response.status_code == 400, (method, url, response.content[:200])
                assert "levels deep" in response.json()["detail"]
            big = '{"name": "' + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + '"}'
            response = staff.generic(
                method.upper(), url, big, content_type="application/json", **headers
            )
            tally("large body", response.status_code)
            tried += 1
            assert response.status_code == 413, (method, url)
    assert tried > 300  # docs/reliability.md reports the count
    assert stored_state(None, staff_headers["Authorization"]) == before


# --- Stateful: create, read, update, delete ------------------------------------------


def stored_state(record_url: str | None, authorization: str) -> tuple:
    """Everything a write could change: the row counts of every table of the registry and
    cooperation apps (history and many-to-many tables included), and the representation
    of the record the write aimed at (read by calling the view: Django's test client
    would connect close_old_connections again, which closes the test's PostgreSQL
    transaction under the next request)."""
    from django.apps import apps
    from django.test import RequestFactory
    from django.urls import Resolver404, resolve

    tables = sorted(
        {
            model._meta.db_table
            for app in ("registry", "deposits", "cooperation")
            for model in apps.get_app_config(app).get_models(include_auto_created=True)
        }
    )
    counts = ", ".join(f"(SELECT COUNT(*) FROM {connection.ops.quote_name(t)})" for t in tables)
    with connection.cursor() as cursor:  # one round trip: this runs around every write
        cursor.execute(f"SELECT {counts}")
        rows = tuple(zip(tables, cursor.fetchone(), strict=True))
    if record_url is None:
        return rows, None
    try:
        match = resolve(record_url)
    except Resolver404:
        return rows, 404
    cache.clear()
    response = match.func(
        RequestFactory().get(record_url, HTTP_AUTHORIZATION=authorization), **match.kwargs
    )
    return rows, response.status_code, response.render().content


STATEFUL_CHECKS = [*CHECKS, use_after_free, ensure_resource_availability]

# Body fields that name other records, and where their real identifiers are.
REFERENCES = {
    "deposit": "deposits",
    "deposits": "deposits",
    "mineral": "minerals",
    "minerals": "minerals",
    "region": "regions",
    "belt": "belts",
    "organisation": "organizations",
    "lead_organisation": "organizations",
    "parent": "organizations",
    "memorandum": "memoranda",
    "topics": "topics",
}


def real(value, prefix: str):
    """Every other generated reference becomes a real one, as for path identifiers."""
    digest = zlib.crc32(repr(value).encode())
    known = KNOWN_IDS[prefix]
    return known[(digest // 2) % len(known)] if digest % 2 == 0 else value


def with_real_references(body):
    """A generated body whose references reach real records half of the time, so creates
    get past "does not exist" and the links have records to follow."""
    if not isinstance(body, dict):
        return body
    body = dict(body)
    for field, prefix in REFERENCES.items():
        value = body.get(field)
        if isinstance(value, str):
            body[field] = real(value, prefix)
        elif isinstance(value, list):
            body[field] = [real(item, prefix) if isinstance(item, str) else item for item in value]
    if isinstance(body.get("commodities"), list):
        body["commodities"] = [with_real_references(item) for item in body["commodities"]]
    return body


def test_create_read_update_delete_statefully(api_app, staff_headers):
    """Schemathesis' state machine over the schema's links (kernel/api/schema.py)."""
    authorization = staff_headers["Authorization"]
    changed_by_refusals = []

    class Registry(SCHEMA.as_state_machine()):
        # Each scenario starts from the demo registry again: Hypothesis replays the start
        # of a scenario and needs the same answers to the same requests.
        def setup(self):
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)
            super().teardown()

        def get_call_kwargs(self, case):
            return {"headers": staff_headers, "app": api_app}

        def before_call(self, case):
            cache.clear()  # throttle counters
            self.write = case.method.upper() != "GET"
            case.body = with_real_references(case.body)
            if self.write:
                record = case.formatted_path if case.path_parameters else None
                self.record_url = record
                self.before = stored_state(record, authorization)

        def after_call(self, response, case):
            super().after_call(response, case)
            tally("stateful", response.status_code)
            TRIED[f"stateful: {case.method.upper()} {response.status_code}"] += 1
            if self.write and 400 <= response.status_code < 500:
                TRIED["stateful: refused writes"] += 1
                if stored_state(self.record_url, authorization) != self.before:
                    TRIED["stateful: refused writes that changed data"] += 1
                    changed_by_refusals.append((case.method, case.formatted_path, case.body))

        def validate_response(self, response, case, **kwargs):
            case.validate_response(
                response,
                checks=STATEFUL_CHECKS,
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )
            assert not changed_by_refusals, changed_by_refusals

    TRIED["stateful: refused writes that changed data"] = 0
    started = time.monotonic()
    try:
        Registry.run(
            settings=settings(
                max_examples=SCENARIOS,
                stateful_step_count=STEPS,
                # No shrinking: a failing scenario is reported as found, in bounded time.
                phases=[Phase.explicit, Phase.generate],
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
        )
    finally:
        TRIED["stateful: seconds"] = round(time.monotonic() - started)
    # The links were followed: records were created, then read by the identifier answered.
    assert TRIED["stateful: POST 201"] and TRIED["stateful: GET 200"]


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


@pytest.mark.django_db
def test_a_transition_documents_the_if_match_it_checks(key_client, cooperation_editor):
    """The stateful run sent a transition the ETag it had read, after another write had
    moved the record: 412, which the schema did not document (nor If-Match, nor 428)."""
    from tests.factories import MemorandumFactory

    operation = openapi_document()["paths"]["/api/v1/memoranda/{id}/transitions/"]["post"]
    if_match = [p for p in operation["parameters"] if p["name"] == "If-Match"]
    assert if_match and not if_match[0].get("required")
    assert {"412", "428"} <= set(operation["responses"])

    memorandum = MemorandumFactory()
    editor = key_client(user=cooperation_editor)
    url = f"/api/v1/memoranda/{memorandum.public_id}/"
    step = {"status": "under-negotiation", "date": "2024-07-01"}
    for tag, status in [('"stale"', 412), ("*", 428)]:
        response = editor.post(f"{url}transitions/", step, format="json", HTTP_IF_MATCH=tag)
        assert response.status_code == status
    assert memorandum.transitions.count() == 0
    etag = editor.get(url)["ETag"]
    response = editor.post(f"{url}transitions/", step, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 201, response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "resource, body, field",
    [
        ("people", {"name": "X"}, "organisation"),
        ("organizations", {"name": "X", "country": "TJ", "kind": "agency"}, "parent"),
        ("topics", {"name": "X"}, "minerals"),
        ("topics", {"name": "X"}, "deposits"),
        ("initiatives", {"title": "X", "kind": "project", "status": "planned"}, "memorandum"),
        ("initiatives", {"title": "X", "kind": "project", "status": "planned"}, "topics"),
    ],
)
def test_a_reference_with_a_nul_character_is_a_400_on_both_databases(
    key_client, cooperation_editor, resource, body, field
):
    """The stateful run on PostgreSQL: a NUL in a related record's identifier reached the
    database, which refused to compare it (DataError, 500)."""
    editor = key_client(user=cooperation_editor)
    many = field in ("minerals", "deposits", "topics")
    body = {**body, field: ["TJ-\x00"] if many else "TJ-\x00"}
    response = editor.post(f"/api/v1/{resource}/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()[field] == ["Null characters are not allowed."]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "resource, body",
    [
        ("reserves", {"deposit": "TJD-\x00", "mineral": "silver", "category": "C1"}),
        ("reserves", {"deposit": "TJD-000001", "mineral": "silver\x00", "category": "C1"}),
        ("deposits", {"name": "X", "region": "TJ-\x00"}),
        ("deposits", {"name": "X", "commodities": [{"mineral": "silver\x00"}]}),
        ("movements", {"deposit": "TJD-\x00", "mineral": "silver", "year": 2024}),
        ("movements", {"deposit": "TJD-000001", "mineral": "silver\x00", "year": 2024}),
    ],
)
def test_a_deposit_reference_with_a_nul_character_is_a_400(staff_api_client, resource, body):
    """The same on the deposit resources."""
    from tests.factories import DepositFactory, MineralFactory

    DepositFactory()
    MineralFactory(code="silver")
    staff_api_client.raise_request_exception = False
    response = staff_api_client.post(f"/api/v1/{resource}/", body, format="json")
    assert response.status_code == 400, response.content
