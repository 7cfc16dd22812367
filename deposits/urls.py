"""URLs of the analyst pages for deposits, minerals and regions."""

from django.urls import path

from deposits import views

urlpatterns = [
    path("", views.home, name="home"),
    path("deposits/", views.deposit_list, name="deposit-list"),
    path("deposits/map.geojson", views.deposit_map_data, name="deposit-map-data"),
    path(
        "deposits/export.csv",
        views.deposit_export,
        {"file_format": "csv"},
        name="deposit-export-csv",
    ),
    path(
        "deposits/export.xlsx",
        views.deposit_export,
        {"file_format": "xlsx"},
        name="deposit-export-xlsx",
    ),
    path("deposits/<str:public_id>/", views.deposit_detail, name="deposit-detail"),
    path("minerals/<slug:code>/", views.mineral_detail, name="mineral-detail"),
    path("regions/<str:code>/", views.region_detail, name="region-detail"),
]
