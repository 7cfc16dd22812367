"""URLs of the analyst pages for deposits, minerals and regions."""

from django.urls import path

from deposits.pages import (
    deposit_detail,
    deposit_list,
    home,
    mineral,
    passport,
    region,
    spelling,
    statistics,
)

urlpatterns = [
    path("", home.home, name="home"),
    path("deposits/", deposit_list.deposit_list, name="deposit-list"),
    path("deposits/map.json", deposit_list.deposit_map_data, name="deposit-map-data"),
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
    path("deposits/spelling/", spelling.spelling, name="name-spelling"),
    path("deposits/<str:public_id>/", deposit_detail.deposit_detail, name="deposit-detail"),
    path(
        "deposits/<str:public_id>/passport.pdf",
        passport.deposit_passport,
        name="deposit-passport",
    ),
    path("minerals/<slug:code>/", mineral.mineral_detail, name="mineral-detail"),
    path("minerals/<slug:code>/report.pdf", mineral.mineral_pdf, name="mineral-pdf"),
    path("minerals/<slug:code>/report.xlsx", mineral.mineral_xlsx, name="mineral-xlsx"),
    path("regions/<str:code>/", region.region_detail, name="region-detail"),
    path("regions/<str:code>/report.pdf", region.region_pdf, name="region-pdf"),
    path("regions/<str:code>/report.xlsx", region.region_xlsx, name="region-xlsx"),
    path("statistics/", statistics.statistics, name="statistics"),
    path("statistics/report.pdf", statistics.statistics_pdf, name="statistics-pdf"),
    path("statistics/report.xlsx", statistics.statistics_xlsx, name="statistics-xlsx"),
]
