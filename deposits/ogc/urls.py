"""URLs of the OGC service under `/ogc/` (`/ogc` redirects there, by APPEND_SLASH).

OGC paths have no trailing slash (`/ogc/collections/deposits/items`), as GIS
clients build them from the landing page's address.
"""

from django.urls import path, re_path

from deposits.ogc import views

COLLECTION = "collections/<str:collection_id>"

urlpatterns = [
    path("", views.LandingPage.as_view(), name="ogc-landing"),
    path("conformance", views.Conformance.as_view(), name="ogc-conformance"),
    path("api", views.ServiceDescription.as_view(), name="ogc-openapi"),
    path("api.html", views.service_doc, name="ogc-service-doc"),
    path("collections", views.Collections.as_view(), name="ogc-collections"),
    path(COLLECTION, views.Collection.as_view(), name="ogc-collection"),
    path(f"{COLLECTION}/queryables", views.Queryables.as_view(), name="ogc-queryables"),
    path(f"{COLLECTION}/sortables", views.Sortables.as_view(), name="ogc-sortables"),
    path(f"{COLLECTION}/items", views.Items.as_view(), name="ogc-items"),
    path(f"{COLLECTION}/items/<str:feature_id>", views.Item.as_view(), name="ogc-item"),
    re_path(r"^(?P<rest>.+)$", views.NotFound.as_view()),
]
