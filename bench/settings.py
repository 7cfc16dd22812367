"""Settings of `make bench-serve`: production's, with the framework's floor routed."""

from registry.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
