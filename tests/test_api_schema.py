"""The OpenAPI document matches the API, and the docs load without internet access."""

import pytest
from django.contrib.staticfiles import finders
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_is_valid_openapi_3(schema):
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")


def test_schema_documents_every_resource(schema):
    paths = set(schema["paths"])
    for resource in [
        "regions/{code}/",
        "minerals/{code}/",
        "belts/{code}/",
        "deposits/{id}/",
        "reserves/{id}/",
        "organizations/{id}/",
        "people/{id}/",
        "events/{id}/",
        "topics/{id}/",
        "memoranda/{id}/",
        "memoranda/{id}/transitions/",
        "initiatives/{id}/",
        "stats/minerals/",
        "stats/regions/",
        "changes/",
    ]:
        assert f"/api/v1/{resource}" in paths, resource


def test_schema_documents_the_status_codes_the_api_answers(schema):
    deposits = schema["paths"]["/api/v1/deposits/"]
    assert {"200", "304", "400", "401", "404", "429"} <= set(deposits["get"]["responses"])
    assert {"201", "400", "401", "403", "429"} <= set(deposits["post"]["responses"])
    detail = schema["paths"]["/api/v1/deposits/{id}/"]
    assert {"200", "400", "401", "403", "404", "412", "429"} <= set(detail["patch"]["responses"])
    assert {"204", "404", "409", "412"} <= set(detail["delete"]["responses"])
    assert "Retry-After" in deposits["get"]["responses"]["429"]["headers"]
    assert "ETag" in deposits["get"]["responses"]["200"]["headers"]


def test_schema_documents_deposit_filters_formats_and_fields(schema):
    get = schema["paths"]["/api/v1/deposits/"]["get"]
    names = {p["name"] for p in get["parameters"]}
    assert names >= {
        "mineral",
        "region",
        "status",
        "deposit_type",
        "belt",
        "critical",
        "min_share",
        "q",
        "bbox",
        "updated_since",
        "visibility",
        "ordering",
        "include",
        "as_of",
        "page",
        "page_size",
    }
    assert {"application/json", "text/csv", "application/geo+json"} <= set(
        get["responses"]["200"]["content"]
    )
    deposit = schema["components"]["schemas"]["Deposit"]["properties"]
    assert {"id", "aliases", "commodities", "reserves", "visibility"} <= set(deposit)
    assert schema["components"]["securitySchemes"]["ApiKey"]["name"] == "Authorization"


def test_schema_documents_the_length_of_statistics_rankings(schema):
    for path in ["minerals/", "minerals/{code}/", "regions/", "regions/{code}/"]:
        parameters = schema["paths"][f"/api/v1/stats/{path}"]["get"]["parameters"]
        [top] = [p for p in parameters if p["name"] == "top"]
        assert top["in"] == "query"
        assert top["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10}


def test_schema_endpoint_serves_the_document(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/v1/deposits/" in response.json()["paths"]


def test_swagger_ui_loads_its_assets_from_this_server(client, pages_settings):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn.jsdelivr" not in html and "unpkg" not in html
    # Installed with the package, collected by collectstatic and served by whitenoise.
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
