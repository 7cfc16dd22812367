"""Top-level URLs: the admin for ministry staff; the pages and the API join here."""

import os

from django.contrib import admin
from django.urls import include, path

from registry import views

admin.site.site_header = "Tajikistan Mineral Deposit Registry"
admin.site.site_title = "Mineral Deposit Registry"
admin.site.index_title = "Registry administration"

urlpatterns = [
    path(
        "admin/data-quality/",
        admin.site.admin_view(views.data_quality),
        name="data-quality",
    ),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("api/", include("registry.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("ogc/", include("deposits.ogc.urls")),
    path("", include("deposits.urls")),
    path("", include("cooperation.urls")),
]

if os.environ.get("BENCH_FLOOR") == "1":  # make bench-serve only: the framework's floor
    from bench.floor import floor

    urlpatterns.insert(0, path("bench/floor", floor))

handler404 = "registry.views.not_found"
