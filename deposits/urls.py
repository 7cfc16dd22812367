"""URLs of the analyst pages for deposits, minerals and regions."""

from django.urls import path

from deposits.pages import deposit_detail, deposit_list, home, mineral, region

urlpatterns = [
    path("", home.home, name="home"),
    path("deposits/", deposit_list.deposit_list, name="deposit-list"),
    path("deposits/map.geojson", deposit_list.deposit_map_data, name="deposit-map-data"),
    path(
        "deposits/export.csv",
        deposit_list.deposit_export,
        {"file_format": "csv"},
        name="deposit-export-csv",
    ),
    path(
        "deposits/export.xlsx",
        deposit_list.deposit_export,
        {"file_format": "xlsx"},
        name="deposit-export-xlsx",
    ),
    path("deposits/<str:public_id>/", deposit_detail.deposit_detail, name="deposit-detail"),
    path("minerals/<slug:code>/", mineral.mineral_detail, name="mineral-detail"),
    path("regions/<str:code>/", region.region_detail, name="region-detail"),
]
