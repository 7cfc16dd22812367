"""Fixtures shared by the whole suite."""

import datetime
import io
import os
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import translation

from tests.factories import UserFactory
from tests.transactions import made_for_module, run_on_commit_callbacks

# The browser tests' fixtures (Chromium, the live server, the demo registry), and the
# multi-process tests' template databases and static files, dropped when the run ends.
pytest_plugins = ["tests.browser", "tests.live_registry"]


@pytest.fixture
def editor(db):
    return UserFactory(username="editor", groups=["Registry editors"])


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer", groups=["Registry viewers"])


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


# --- REST API (tests/test_api_*.py) -------------------------------------------------


@pytest.fixture(params=["process cache", "redis"])
def either_cache(request, settings):
    """The test runs with the per-process cache and with the cache production shares
    between processes: the local Redis (CI starts it) through django-redis; TEST_REDIS_URL
    names another database of it for a second run on the same machine."""
    if request.param == "redis":
        from django.core.cache import cache

        from registry.settings import redis_cache

        url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
        settings.CACHES = {"default": redis_cache(url)}
        cache.clear()


@pytest.fixture(autouse=True)
def _fresh_api_throttles():
    """Throttle counters live in the cache; every test starts with none used."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


class ThrottleClock:
    """The throttles' clock, set by the test: requests are counted in fixed
    one-minute windows, and a test on the wall clock that straddles a minute's
    end would see its allowance renewed half-way."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def throttle_clock(monkeypatch):
    from kernel.api.throttling import _SettingsRateThrottle

    clock = ThrottleClock(now=1_800_000_000.0)  # the start of a minute
    monkeypatch.setattr(_SettingsRateThrottle, "timer", staticmethod(clock))
    return clock


@pytest.fixture
def two_requests_a_minute(either_cache, settings, throttle_clock):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "key": "2/minute"},
    }


def _api_client():
    """A DRF test client that arrives over HTTPS, as behind the production proxy
    (SECURE_SSL_REDIRECT would otherwise redirect every request)."""
    from rest_framework.test import APIClient

    return APIClient(HTTP_X_FORWARDED_PROTO="https")


@pytest.fixture
def api_client():
    """An anonymous API client."""
    return _api_client()


def _client_with_key(key):
    client = _api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.key = key
    return client


@pytest.fixture
def partner_org(db):
    from tests.factories import PartnerOrganisationFactory

    return PartnerOrganisationFactory()


@pytest.fixture
def partner_client(partner_org):
    """A client holding KIGAM's read-only partner key."""
    from tests.factories import issue_api_key

    return _client_with_key(issue_api_key(organisation=partner_org))


@pytest.fixture
def staff_api_client(editor):
    """A client holding a key of the `editor` staff user (Registry editors)."""
    from tests.factories import issue_api_key

    return _client_with_key(issue_api_key(user=editor))


@pytest.fixture
def viewer_api_client(viewer):
    """A client holding a key of the `viewer` staff user (view permissions only)."""
    from tests.factories import issue_api_key

    return _client_with_key(issue_api_key(user=viewer))


@pytest.fixture
def key_client(db):
    """`key_client(user=...)` or `key_client(organisation=...)`: a client with a new key."""
    from tests.factories import issue_api_key

    return lambda **holder: _client_with_key(issue_api_key(**holder))


# --- cooperation (tests/test_cooperation_*.py) --------------------------------------


@pytest.fixture
def cooperation_editor(db):
    return UserFactory(username="coop-editor", groups=["Cooperation editors"])


@pytest.fixture
def cooperation_viewer(db):
    return UserFactory(username="coop-viewer", groups=["Cooperation viewers"])


@pytest.fixture
def cooperation_editor_client(client, cooperation_editor):
    client.force_login(cooperation_editor)
    return client


@pytest.fixture
def cooperation_viewer_client(client, cooperation_viewer):
    client.force_login(cooperation_viewer)
    return client


@pytest.fixture(autouse=True)
def _access_record_written_when_asked():
    """Partner reads are noted in the process and written in bulk (kernel/access.py): no
    timer thread writes behind a test's back, and nothing one test noted reaches the
    next (tests/test_access_record.py flushes when it reads the record).

    Not through the `settings` fixture: asked for by every test here, its restore would
    come before the tests' own caches are let go (tests/test_health.py's own Redis)."""
    from django.test import override_settings

    from kernel import access

    access.discard_pending()
    with override_settings(ACCESS_RECORD_SECONDS=0):
        yield
    access.discard_pending()


@pytest.fixture(autouse=True)
def _nothing_remembered_from_another_test():
    """Figures remembered under the registry's generation (kernel/memo.py) are forgotten between
    tests: a committing test's database is emptied and its rows brought back, so the next
    one may reach the same generation over other rows."""
    from kernel.memo import forget

    forget()
    yield
    forget()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in English: a request in Russian leaves its language active."""
    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def _served_over_plain_http(settings):
    """Tests run with production settings, except HTTPS redirects and hashed static names
    (the test client speaks plain HTTP and the suite does not run collectstatic)."""
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# --- Pages (tests/test_pages*.py) ----------------------------------------------------


@pytest.fixture
def pages_settings(settings):
    """Pages as a local run serves them: plain HTTP, static files without a manifest
    (tests do not run collectstatic), translations compiled from locale/*.po."""
    from kernel.translations import compile_catalogues

    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    compile_catalogues()
    return settings


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, request):
    """pytest-django's test database; on PostgreSQL, when the run has live registries,
    also copied as their migrated template (tests/live_registry.py)."""
    from tests.live_registry import keep_test_database_as_template

    keep_test_database_as_template(request.config, request.session.items)


@pytest.fixture(scope="session", autouse=True)
def _postgresql_flushed_by_delete():
    """On PostgreSQL, `flush` (which empties the database after each transactional test,
    and in tests/test_backup.py before a restore) deletes every table's rows, as Django
    does on SQLite, instead of truncating them. A TRUNCATE of the registry's 92 tables
    makes new files for each table and index, seconds of I/O for tables that hold a few
    hundred rows; a DELETE empties them in one transaction all the same (every foreign
    key is deferred to its commit). With sequences to reset, or a cascade asked for, it
    truncates as before."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade or not tables:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        deletes = [
            f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};"
            for table in tables
        ]
        return [f"{style.SQL_KEYWORD('SET CONSTRAINTS ALL DEFERRED')};", *deletes]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


@pytest.fixture(scope="session", autouse=True)
def _sequences_past_the_serialized_rows():
    """On PostgreSQL, a serialized rollback brings back the rows the migrations made with
    their own keys, as `loaddata` does, but does not move the tables' sequences past them
    as `loaddata` does. After a test that restored a backup (tests/test_backup.py, whose
    `loaddata` set each sequence to the backup's highest key), the next test's first new
    counter took a key a restored row held. So the sequences follow the restored rows."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db.backends.base.creation import BaseDatabaseCreation

    deserialize = BaseDatabaseCreation.deserialize_db_from_string

    def deserialize_and_move_sequences(self, data):
        deserialize(self, data)
        models = apps.get_models(include_auto_created=True)
        with self.connection.cursor() as cursor:
            for statement in self.connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            BaseDatabaseCreation, "deserialize_db_from_string", deserialize_and_move_sequences
        )
        yield


# --- the two read paths of PostgreSQL (tests/test_api_exports.py, test_api_documents.py)


@pytest.fixture(scope="session")
def load_demo_registry(django_db_setup, django_db_blocker, tmp_path_factory):
    """Loads the demo registry into the test database, for tests that read it: a restore
    of the backup (the registry's own format, reports/backup.py) taken once per run of
    `load_demo` into the freshly migrated test database, then rolled back. The same
    records, history and kept sums as `load_demo` gives, in a fraction of the time.

    Call it before the test makes registry records of its own (the backup's records keep
    their keys); into a registry that is not empty it runs `load_demo` itself. The tests
    of the loader call `load_demo`."""
    from django.db import transaction

    from reports import backup

    dump = str(tmp_path_factory.mktemp("demo") / "demo.json")
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo", stdout=io.StringIO())
        # The registry's records only: the demo makes no staff accounts, and the groups'
        # permissions are not in the database of every test (a transactional test's
        # flush takes them away).
        call_command(
            "dumpdata",
            *(label for label in backup.DUMPED if not label.startswith("auth.")),
            exclude=backup.NOT_DUMPED,
            output=dump,
            natural_foreign=True,
            natural_primary=True,
            verbosity=0,
        )
        transaction.set_rollback(True)

    def load():
        if backup.is_empty():
            backup.restore(dump)
        else:
            call_command("load_demo", stdout=io.StringIO())

    return load


@pytest.fixture(scope="module")
def demo_for_module(django_db_setup, django_db_blocker, load_demo_registry):
    """The demo registry, loaded once for a module (`made_for_module`)."""
    yield from made_for_module(django_db_blocker, load_demo_registry)


def make_awkward_records() -> None:
    """Deposits that test every corner of a CSV cell, a share and an order: formula
    triggers, tabs, quotes, line breaks, both kinds of share, a quantity without a figure."""
    from deposits.models import Deposit
    from tests import factories

    gold = factories.MineralFactory(code="test-gold", name="Test gold, native")
    lead = factories.MineralFactory(code="test-lead", name="Test lead")  # reported shares only
    galena = factories.MineralFactory(code="test-galena", name="Test lead")  # the same name
    for n, name in enumerate(['=cmd|"/c calc"', "-minus", "\ttab", 'Quote "and", comma']):
        deposit = factories.DepositFactory(
            name=name,
            aliases=["+plus", "new\nline", "Ёлка"] if n % 2 else [],
            sources=["@at", "line\r\nbreak"],
            region=None if n == 3 else factories.RegionFactory(code=f"TJ-X{n}"),
            status="",
            latitude=None if n == 2 else Decimal("38.123400"),
            longitude=None if n == 2 else Decimal("68.000001"),
        )
        factories.CommodityFactory(
            deposit=deposit, mineral=gold, role="main" if n % 2 else "associated"
        )
        # 12.345, 12.355, ...: two decimals rounded half to even, as DRF does
        share = Decimal("12.345") + n * Decimal("0.01")
        factories.CommodityFactory(
            deposit=deposit,
            mineral=lead,
            reported_share_pct=share,
            reported_share_source="test",
        )
        factories.CommodityFactory(deposit=deposit, mineral=galena, role="associated")
        for quantity in (Decimal(n + 1) / 3, Decimal(7)):  # two estimates alike but for id
            factories.ReserveEstimateFactory(
                deposit=deposit, mineral=gold, quantity=quantity, unit="oz t"
            )
        factories.ReserveEstimateFactory(  # no quantity; C2, so the C1 figures stay in force
            deposit=deposit,
            mineral=gold,
            category="C2",
            as_of=datetime.date(2024, 1, 1),
            quantity=None,
        )
    Deposit.objects.filter(name="-minus").update(updated_at="2026-01-02T03:04:05Z")


@pytest.fixture(scope="module")
def awkward_for_module(demo_for_module, django_db_blocker):
    """The demo registry and the awkward records (`make_awkward_records`), made once for
    a module (`made_for_module`)."""
    yield from made_for_module(django_db_blocker, make_awkward_records)


@pytest.fixture
def sequences_in_step(db):
    """A transactional test's database is restored from the serialized state
    (`serialized_rollback`) with the rows' own ids, which its sequences may not have
    reached: moved past them, the test can create records (PostgreSQL; SQLite keeps no
    sequences)."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection

    models = [
        model
        for label in ("auth", "registry", "deposits", "cooperation")
        for model in apps.get_app_config(label).get_models()
    ]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)


# --- sorting and exporting by reserves (tests/test_reserve_ordering.py, test_exports_reserves.py)


@pytest.fixture
def reserves_registry(db):
    """Silver and gold as the share rule sees them, every kind of share and quantity.

    Silver (t): Konchoch, C1 100 t in 2010 re-estimated at 150 t in 2020, with C2 30 t
    and P1 200 t beside it (neither counts in a share); Kumarkh, 3,000,000 troy ounces in
    C1 since 2019 (93.3104304 t: more ounces than Konchoch has tonnes, fewer tonnes);
    Altyn-Topkan, C1 50 t since 2015 and P2 500 t (a source reported 20% before);
    Reported Ridge, a reported share "over 22%" and no estimate (between the computed
    shares, so a share computed over more than the reader may see would move it);
    Kaltasay, silver with nothing known; an internal deposit with 800 t and a partners'
    one with 300 t, both since 2014. Gold (kg): Golden Valley, the only gold deposit,
    10,000 kg since 2018.

    Public silver in force now: 150 + 93.3104304 + 50 = 293.3104304 t, so Konchoch holds
    51.14%, Kumarkh 31.81%, Altyn-Topkan 17.05% of what the public may see."""
    from deposits.models import DepositCommodity, ReserveEstimate
    from kernel.models import Visibility
    from tests import factories

    region = factories.RegionFactory(code="TJ-SU", name="Sughd")
    silver = factories.MineralFactory(code="silver", symbol="Ag", name="Silver", unit="t")
    gold = factories.MineralFactory(code="gold", symbol="Au", name="Gold", unit="kg")
    deposits = {
        name: factories.DepositFactory(name=name, region=region, visibility=visibility)
        for name, visibility in [
            ("Konchoch", Visibility.PUBLIC),
            ("Kumarkh", Visibility.PUBLIC),
            ("Altyn-Topkan", Visibility.PUBLIC),
            ("Reported Ridge", Visibility.PUBLIC),
            ("Kaltasay", Visibility.PUBLIC),
            ("Golden Valley", Visibility.PUBLIC),
            ("Hidden silver", Visibility.INTERNAL),
            ("Shared silver", Visibility.PARTNERS),
        ]
    }
    for name in ("Konchoch", "Kumarkh", "Kaltasay", "Hidden silver", "Shared silver"):
        factories.CommodityFactory(deposit=deposits[name], mineral=silver)
    factories.CommodityFactory(
        deposit=deposits["Altyn-Topkan"],
        mineral=silver,
        reported_share_pct=Decimal("20"),
        reported_share_source="a published source",
    )
    factories.CommodityFactory(
        deposit=deposits["Reported Ridge"],
        mineral=silver,
        reported_share_pct=Decimal("22"),
        reported_share_bound=DepositCommodity.Bound.OVER,
        reported_share_source="a published source",
    )
    factories.CommodityFactory(deposit=deposits["Golden Valley"], mineral=gold)

    def estimate(name, mineral, quantity, day, unit="t", category="C1", balance=True):
        factories.ReserveEstimateFactory(
            deposit=deposits[name],
            mineral=mineral,
            category=category,
            balance=balance,
            quantity=Decimal(quantity),
            unit=unit,
            as_of=datetime.date.fromisoformat(day),
        )

    estimate("Konchoch", silver, "100", "2010-05-01")
    estimate("Konchoch", silver, "150", "2020-03-01")
    estimate("Konchoch", silver, "30", "2020-03-01", category="C2")
    estimate("Konchoch", silver, "200", "2020-03-01", category="P1", balance=None)
    estimate("Kumarkh", silver, "3000000", "2019-01-01", unit="oz t")
    estimate("Altyn-Topkan", silver, "50", "2015-01-01")
    estimate("Altyn-Topkan", silver, "500", "2015-01-01", category="P2", balance=None)
    estimate("Hidden silver", silver, "800", "2014-01-01")
    estimate("Shared silver", silver, "300", "2014-01-01")
    estimate("Golden Valley", gold, "10000", "2018-01-01", unit="kg")
    assert ReserveEstimate.objects.count() == 10
    return deposits


@pytest.fixture
def commit():
    """Each test runs in a transaction that never commits; `commit()` runs the on-commit
    callbacks as a commit would (`run_on_commit_callbacks`)."""
    return run_on_commit_callbacks
