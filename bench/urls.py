"""Production's URLs plus the floor `make bench-serve` measures against."""

from django.urls import path

from bench.floor import floor
from registry.urls import handler404, urlpatterns  # noqa: F401

urlpatterns = [path("bench/floor", floor), *urlpatterns]
