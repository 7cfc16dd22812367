"""Content negotiation (kernel/api/negotiation.py): DRF's answers, the commonest given at once."""

import pytest
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from deposits.api.views import DepositViewSet
from kernel.api.negotiation import RegistryContentNegotiation

pytestmark = pytest.mark.django_db

RENDERER_LISTS = {
    "the API's default": [JSONRenderer(), BrowsableAPIRenderer()],
    "deposits, with exports": [renderer() for renderer in DepositViewSet.renderer_classes],
}
ACCEPT = [
    None,
    "*/*",
    "application/json",
    "text/html",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "text/csv",
    "application/geo+json",
    "application/json; indent=4",
    "application/xml",
]
QUERIES = [{}, {"format": "json"}, {"format": "csv"}, {"format": "api"}, {"format": ""}]


def _answer(negotiation, renderers, accept, query):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get("/api/v1/deposits/", query, **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers)
    except Exception as error:  # DRF's 404 for an unknown format, 406 for no match
        return type(error).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("renderers", RENDERER_LISTS.values(), ids=RENDERER_LISTS.keys())
@pytest.mark.parametrize("accept", ACCEPT)
@pytest.mark.parametrize("query", QUERIES, ids=lambda query: str(query))
def test_every_answer_is_drfs_own(renderers, accept, query):
    registry = _answer(RegistryContentNegotiation(), renderers, accept, query)
    assert registry == _answer(DefaultContentNegotiation(), renderers, accept, query)


@pytest.mark.parametrize(
    ("headers", "query", "content_type"),
    [
        ({}, {}, "application/json"),
        ({"HTTP_ACCEPT": "*/*"}, {}, "application/json"),
        ({"HTTP_ACCEPT": "*/*"}, {"format": "csv"}, "text/csv; charset=utf-8"),
        ({"HTTP_ACCEPT": "text/html"}, {}, "text/html; charset=utf-8"),
    ],
)
def test_the_api_answers_in_the_format_asked_for(api_client, headers, query, content_type):
    response = api_client.get("/api/v1/deposits/", query, **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type


def test_a_view_without_renderers_is_not_acceptable_as_drf_says():
    drf = _answer(DefaultContentNegotiation(), [], None, {})
    assert _answer(RegistryContentNegotiation(), [], None, {}) == drf == "NotAcceptable"
