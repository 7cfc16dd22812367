"""Settings of the registry, all read from the environment.

Production runs with DEBUG off, a SECRET_KEY, ALLOWED_HOSTS and a PostgreSQL
DATABASE_URL; `make run` turns DEBUG on and falls back to an embedded SQLite file.
"""

import importlib.util
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from registry.env import env_bool, env_int, env_list, env_seconds, env_seconds_list

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-local-development-key-never-used-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # Django's widget templates, for FORM_RENDERER below
    "rest_framework",
    "django_filters",
    "axes",  # Trust: admin login lockout
    "csp",  # Trust: Content-Security-Policy
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "import_export",
    "django_tasks",  # the backport of Django 6's tasks framework
    "django_tasks_db",  # its database backend: the queue's table and `db_worker`
    "kernel",  # the shared kernel (app label "registry")
    "deposits",
    "cooperation",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "registry.security.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "registry.middleware.ServiceUnavailableMiddleware",
    # Notes partner keys' reads once their answers are sent (kernel/access.py).
    "kernel.access.AccessRecordMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "registry.urls"
WSGI_APPLICATION = "registry.wsgi.application"
ASGI_APPLICATION = "registry.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
# Forms render with the templates above, so a widget may use one of the project's
# (templates/deposits/widgets/).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# Without DATABASE_URL the registry runs on an embedded SQLite file.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# Read replicas (PostgreSQL streaming replication): comma-separated URLs. Reads go
# to a replica, writes and transactions to the primary (registry/routers.py).
for number, url in enumerate(env_list("DATABASE_REPLICA_URLS"), start=1):
    DATABASES[f"replica{number}"] = {
        **dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60)),
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["registry.routers.ReplicaRouter"]
# PostgreSQL's JIT compiles a statement whose estimated cost is high, and the share rule's
# per-row sums as of a date estimate high, so it compiled the as-of ranking for longer
# than the ranking ran. The registry's statements are short; none gains from it
# (docs/performance.md, "Figures as of a date").
for database in DATABASES.values():
    if database["ENGINE"] == "django.db.backends.postgresql":
        options = database.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский"), ("tg", "Тоҷикӣ")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language the commands clerks run print in (kernel/commands.py), unless their
# --language says otherwise: en, ru or tg. The pages and the API do not read it.
COMMAND_LANGUAGE = os.environ.get("COMMAND_LANGUAGE", "").strip() or LANGUAGE_CODE
if COMMAND_LANGUAGE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"COMMAND_LANGUAGE must be one of {', '.join(dict(LANGUAGES))}, not {COMMAND_LANGUAGE!r}"
    )
TIME_ZONE = "Asia/Dushanbe"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Production hardening; `manage.py check --deploy` is clean with DEBUG off.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint (kernel/paper.py) logs each step of every PDF at INFO
    "loggers": {"weasyprint.progress": {"level": "WARNING"}},
}

# Spreadsheet import/export in the admin (kernel/spreadsheets.py, which also
# escapes exported formulas): each import is one transaction, importing needs the
# "add" permission and exporting the "view" permission of the model.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"


# A shared cache (API throttling counts, cached API answers) when REDIS_URL is set,
# e.g. redis://127.0.0.1:6379/0; otherwise each process keeps its own. django-redis
# keeps one client per process and counts in one atomic round trip: a cached API answer
# costs a third of what it does through Django's built-in Redis backend. A Redis that
# does not answer within the timeouts makes an API request answer 503, not wait on it
# (registry.middleware).
def redis_cache(url: str) -> dict:
    """The cache settings of a Redis at `url` (the tests' Redis caches use it too)."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
    }


CACHES = {
    "default": (
        redis_cache(REDIS_URL)
        if (REDIS_URL := os.environ.get("REDIS_URL"))
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# dump_registry writes JSON that keeps timestamps to the microsecond.
SERIALIZATION_MODULES = {"exactjson": "kernel.serializers"}

# The admin's deposit list shows an exact count up to this many matches and
# "more than" beyond it, so a page load never counts a whole national table.
ADMIN_COUNT_LIMIT = env_int("ADMIN_COUNT_LIMIT", 10_000)
# A clerk's save of reserve estimates that would move another deposit's computed share of
# a mineral by more than this many percentage points asks for a confirmation first
# (deposits.shares.share_moves; docs/reserves.md).
SHARE_MOVE_WARNING_POINTS = env_int("SHARE_MOVE_WARNING_POINTS", 5)

# Webhooks (reports/webhooks.py, docs/api.md "Webhooks", docs/deployment.md "Workers")
# Deliveries run on the tasks framework's database backend: the queue is a table of the
# registry's own database, so the embedded SQLite default needs no Redis, and workers
# (`manage.py db_worker`) on any number of machines take tasks from it without taking
# the same one twice (SKIP LOCKED on PostgreSQL).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Seconds to wait before each retry of a failed delivery; after the last, it has failed.
# Seven attempts over about eight hours by default.
WEBHOOK_RETRY_SECONDS = env_seconds_list(
    "WEBHOOK_RETRY_SECONDS", ["10", "60", "300", "1800", "7200", "21600"]
)
# How long a receiver may take to answer one delivery.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# Receivers at loopback, private or link-local addresses (the registry's own network) are
# refused unless allowed here: a partner's URL must not reach the ministry's inside.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=DEBUG)
# How many subscriptions one key's holder (an organisation, a staff user) may keep.
WEBHOOK_SUBSCRIPTIONS_PER_HOLDER = env_int("WEBHOOK_SUBSCRIPTIONS_PER_HOLDER", 20)
# Deliveries (with their outcome) are listed in the admin for this many days, then removed.
WEBHOOK_DELIVERY_DAYS = env_int("WEBHOOK_DELIVERY_DAYS", 30)
# The workers' sweep (reports/webhooks.py `sweep`) runs this often while anyone subscribes,
# and at each logged moment a data-sharing clause opens or closes: it pushes those
# moments, and tries again a delivery or a dispatch whose worker was lost.
WEBHOOK_SWEEP_SECONDS = env_seconds("WEBHOOK_SWEEP_SECONDS", 60)
# An attempt still in flight this long after it began lost its worker (killed, machine
# gone): it counts as a failed attempt and the delivery is retried. Longer than any
# attempt lasts (WEBHOOK_TIMEOUT_SECONDS bounds each wait on the receiver).
WEBHOOK_IN_FLIGHT_SECONDS = env_seconds(
    "WEBHOOK_IN_FLIGHT_SECONDS", 6 * WEBHOOK_TIMEOUT_SECONDS + 60
)
# Clause moments older than this when a sweep first sees them are not pushed (a worker
# stopped that long): the change feed still lists them.
WEBHOOK_MOMENT_LOOKBACK_HOURS = env_int("WEBHOOK_MOMENT_LOOKBACK_HOURS", 24)

# Pages
# The server-rendered pages for analysts (deposits/pages/, templates/).
import xstatic.pkg.leaflet  # noqa: E402  (Leaflet's JS and CSS, served as static/leaflet/)
import xstatic.pkg.leaflet_markercluster  # noqa: E402  (served as static/leaflet-markercluster/)

# Tom Select's script and styles from django-tomselect's static files, served as
# static/tomselect/: the list page's searchable filters (deposits/static/deposits/filters.js).
# Only the files are used (the app is not installed: its widgets write inline scripts).
_TOMSELECT = Path(importlib.util.find_spec("django_tomselect").origin).parent
STATICFILES_DIRS = [
    ("leaflet", xstatic.pkg.leaflet.BASE_DIR),
    ("leaflet-markercluster", xstatic.pkg.leaflet_markercluster.BASE_DIR),
    # The region polygons the entry checks use (deposits/geo.py), drawn on the maps too:
    # one file for both, served as static/boundaries/.
    ("boundaries", BASE_DIR / "deposits" / "data" / "geo"),
    ("tomselect", _TOMSELECT / "static" / "django_tomselect"),
]
STATICFILES_FINDERS = [
    "registry.staticfiles.StaticDirectoriesFinder",  # STATICFILES_DIRS, see its module
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
PAGES_PAGE_SIZE = env_int("PAGES_PAGE_SIZE", 50)
PAGES_HOME_TOP_DEPOSITS = 5  # deposits per mineral in the home page's share charts
PAGES_HOME_LATEST = 8
PAGES_MINERAL_TOP_DEPOSITS = 50
PAGES_HISTORY_LENGTH = 20
# The list page's mineral and region choices say how many deposits each would list while
# the reader may see at most this many deposits: counting them then takes a few ms. Over a
# larger registry the counts would cost more than the page itself and are left out
# (docs/performance.md, "Counts of the filter choices").
PAGES_FILTER_COUNTS_MAX_DEPOSITS = env_int("PAGES_FILTER_COUNTS_MAX_DEPOSITS", 2_000)
# The list page's map draws at most this many points (the table pages through all): the
# browser clusters them (docs/performance.md, "The map").
PAGES_MAP_MAX_POINTS = env_int("PAGES_MAP_MAX_POINTS", 100_000)
# Borders drawn under the deposits: a static file, so maps work on closed networks.
PAGES_MAP_OUTLINE = "deposits/geo/central_asia_countries_50m.geojson"
# The regions' outlines drawn over them (the polygons of deposits/geo.py, see STATICFILES_DIRS).
PAGES_MAP_REGIONS = "boundaries/tajikistan_regions_ne10m.geojson"
# The note under a map names this many of the deposits it cannot draw (no coordinates).
PAGES_MAP_UNLOCATED_SHOWN = 20
# An online tile layer is optional: set PAGES_MAP_TILE_URL (with its attribution)
# where the network reaches a tile server, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png
PAGES_MAP_TILES = (
    {
        "url": os.environ["PAGES_MAP_TILE_URL"],
        "attribution": os.environ.get("PAGES_MAP_TILE_ATTRIBUTION", ""),
    }
    if os.environ.get("PAGES_MAP_TILE_URL")
    else None
)

# The guides in docs/ served as pages under /docs/ (registry/guides.py).
GUIDES_DIR = BASE_DIR / "docs"

# REST API
# Partner keys, paging, throttles and OpenAPI (kernel/api/). Rates are DRF rates
# ("60/minute", "10000/day") per API key or staff session, and per anonymous IP.
API_THROTTLE_ANON = os.environ.get("API_THROTTLE_ANON", "120/minute")
API_THROTTLE_KEY = os.environ.get("API_THROTTLE_KEY", "1200/minute")
# JSON reads answered from the cache until the registry changes (kernel/api/caching.py),
# on by default only where the cache is shared by every server process (Redis).
API_CACHE_SECONDS = env_int("API_CACHE_SECONDS", 300 if REDIS_URL else 0)
# How long the cache's copy of the registry generation is trusted before a read asks the
# database again: the longest a stale answer outlives a write that could not reach Redis.
API_CACHE_GENERATION_SECONDS = 3
# The access record of partner keys' reads (kernel/access.py, docs/cooperation.md): kept
# ACCESS_RECORD_DAYS days, written in bulk once ACCESS_RECORD_BATCH reads wait or
# ACCESS_RECORD_SECONDS after the first of them (0: only on a full batch and at exit).
ACCESS_RECORD_DAYS = env_int("ACCESS_RECORD_DAYS", 400)
ACCESS_RECORD_BATCH = env_int("ACCESS_RECORD_BATCH", 100)
ACCESS_RECORD_SECONDS = env_int("ACCESS_RECORD_SECONDS", 10)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kernel.api.authentication.ApiKeyAuthentication",
        # Staff signed in to the admin can browse the API and the docs in the browser.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["kernel.api.permissions.ReadAnyWriteStaffWithModelPermission"],
    "DEFAULT_PAGINATION_CLASS": "kernel.api.pagination.RegistryPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["kernel.api.parsers.BoundedJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "kernel.api.throttling.ApiKeyRateThrottle",
        "kernel.api.throttling.AnonymousRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": API_THROTTLE_ANON, "key": API_THROTTLE_KEY},
    # Behind N reverse proxies, the client address is the N-th from the right of
    # X-Forwarded-For; with 0 it is the connection's address (not spoofable).
    "NUM_PROXIES": env_int("API_NUM_PROXIES", 0),
    "EXCEPTION_HANDLER": "kernel.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "kernel.api.schema.RegistryAutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tajikistan Mineral Deposit Registry API",
    "DESCRIPTION": (
        "Deposits, reserves and international cooperation in geology of Tajikistan. "
        "Send keys as `Authorization: Token <key>`. The guide: [/docs/api/](/docs/api/)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "PREPROCESSING_HOOKS": ["kernel.api.schema.api_v1_endpoints_only"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kernel.api.schema.link_records_to_their_operations",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from drf-spectacular-sidecar's static files: no internet needed.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "DepositStatusEnum": "deposits.models.Deposit.Status",
        "MemorandumStatusEnum": "cooperation.models.MemorandumStatus",
        "InitiativeStatusEnum": "cooperation.models.Initiative.Status",
        "DatePrecisionEnum": "cooperation.models.DatePrecision",
        "ReserveCategoryEnum": "deposits.models.ReserveEstimate.Category",
        "BalanceCategoryEnum": "deposits.models.BALANCE_CATEGORY_CHOICES",
        "ShareBoundEnum": "deposits.models.SHARE_BOUND_CHOICES",
        # The change feed's collections: a change's `model`, a webhook's `collections`
        "ModelEnum": "reports.changes.MODELS",
    },
}

# Trust
# What the registry promises the ministry and how each promise is tested:
# docs/reliability.md. The code is in registry/security.py and kernel/concurrency.py.
from datetime import timedelta  # noqa: E402

from csp.constants import NONE, SELF  # noqa: E402

# Admin login lockout (django-axes), for the admin's password login only: API keys are
# not passwords. After AXES_FAILURE_LIMIT failures from one address, or for one user
# name, logins are refused (429) for AXES_COOLOFF_MINUTES; `manage.py axes_reset`
# (or axes_reset_username NAME) lifts a lockout early. The address is the one the API
# throttles use (API_NUM_PROXIES), so a proxy in front does not lock everyone out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
AXES_ONLY_ADMIN_SITE = True
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "registry.security.client_ip"
AXES_SENSITIVE_PARAMETERS = ["password"]

# Content-Security-Policy: everything from the registry itself, no inline script, no
# plugins, no framing. An optional online tile server (PAGES_MAP_TILE_URL) is allowed
# for map images. Swagger UI at /api/docs/ adds inline styles (registry.security.api_docs).
_MAP_TILE_ORIGINS = ["/".join(PAGES_MAP_TILES["url"].split("/")[:3])] if PAGES_MAP_TILES else []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *_MAP_TILE_ORIGINS],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Request sizes: a JSON or form body up to DATA_UPLOAD_MAX_MEMORY_SIZE, a request with
# files up to REQUEST_MAX_UPLOAD_BYTES; larger requests get 413 with a clear message
# before they are read. The cap is well above the per-file limits (10 MB spreadsheet,
# 20 MB signed memorandum), so a file merely too large for its field gets that
# field's form error; Django spools uploads past FILE_UPLOAD_MAX_MEMORY_SIZE to disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("DATA_UPLOAD_MAX_NUMBER_FIELDS", 10_000)
REQUEST_MAX_UPLOAD_BYTES = env_int("REQUEST_MAX_UPLOAD_BYTES", 64 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # larger files go to a temporary file, not memory

# Cookies: the session cookie is not readable by scripts and not sent cross-site; the
# CSRF cookie must stay readable for the admin's own JavaScript (Django's default).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Keys never reach the logs: requests are logged by path (no query string, no headers;
# `make serve`'s access log likewise), and the handler blanks anything shaped like a key.
LOGGING["filters"] = {"redact_keys": {"()": "registry.logfilters.RedactKeys"}}
LOGGING["handlers"]["console"]["filters"] = ["redact_keys"]

# Collected static files elsewhere when STATIC_ROOT is set (the multi-process tests
# serve a throwaway copy, leaving the working tree's staticfiles/ alone).
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", STATIC_ROOT))
