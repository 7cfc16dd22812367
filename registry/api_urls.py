"""URLs of the REST API: `/api/v1/` (every resource), `/api/schema/`, `/api/docs/`."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import APIRootView, DefaultRouter

from cooperation.api.urls import register as register_cooperation
from deposits.api.urls import register as register_deposits
from registry import security
from reports.changes import ChangeViewSet
from reports.search import SearchViewSet
from reports.subscriptions import WebhookViewSet


class RegistryAPIRootView(APIRootView):
    """The resources of the registry's API, version 1.

    Read without a key (public records), with a partner key (`Authorization: Token <key>`,
    public and partner records) or with a staff key (everything; writes).
    """


class RegistryRouter(DefaultRouter):
    APIRootView = RegistryAPIRootView


router = RegistryRouter()
register_deposits(router)
register_cooperation(router)
router.register("changes", ChangeViewSet, basename="change")
router.register("search", SearchViewSet, basename="search")
router.register("webhooks", WebhookViewSet, basename="webhook")

urlpatterns = [
    path("v1/", include((router.urls, "api"), namespace="api")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI with its script served as a file, under the Content-Security-Policy
    path("docs/", security.api_docs, name="api-docs"),
]
