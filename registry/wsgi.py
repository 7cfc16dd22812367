"""WSGI entry point for production servers (gunicorn)."""

import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
application = get_wsgi_application()
# The URL configuration, and with it every view, serializer and filter set, which the
# first request would otherwise import after the freeze below.
import_module(settings.ROOT_URLCONF)

# The loaded application (models, views, translations) lives as long as the
# process. Frozen, the garbage collector's full passes no longer walk it again and again
# (they showed as p95 outliers: docs/performance.md), and forked workers keep sharing its
# memory pages.
gc.freeze()
