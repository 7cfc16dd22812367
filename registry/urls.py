"""Top-level URLs: the admin for ministry staff; the pages and the API join here."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from registry import guides, views
from reports import views as reports_views

admin.site.site_header = _("Tajikistan Mineral Deposit Registry")
admin.site.site_title = _("Mineral Deposit Registry")
admin.site.index_title = _("Registry administration")

urlpatterns = [
    path(
        "admin/data-quality/",
        admin.site.admin_view(reports_views.data_quality),
        name="data-quality",
    ),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("api/", include("registry.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("ogc/", include("deposits.ogc.urls")),
    path("docs/", guides.guide_index, name="guides"),
    path("docs/<slug:slug>/", guides.guide_page, name="guide"),
    path("", include("deposits.urls")),
    path("", include("cooperation.urls")),
]

handler404 = "registry.views.not_found"
