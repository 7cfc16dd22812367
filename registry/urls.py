"""Top-level URLs: the admin for ministry staff; the pages and the API join here."""

from django.contrib import admin
from django.urls import path

admin.site.site_header = "Tajikistan Mineral Deposit Registry"
admin.site.site_title = "Mineral Deposit Registry"
admin.site.index_title = "Registry administration"

urlpatterns = [
    path("admin/", admin.site.urls),
]
