"""The partners of `make bench`: two synthetic partner organisations with a key each, one
holding no data-sharing clause (a partner's read as it was before clauses) and one holding
`GRANTS` clauses in force under signed memoranda, a mix as the ministry signs them: named
deposits, a mineral, a region (with a mineral, or whole), a box on the map; half of them
with reserve figures, half the record only.

They are made for one size's run through the models and the lifecycle service, as staff
make them in the admin (so `cooperation.grants` keeps the covered deposits and the change
log as it does in production), and removed after it: while any clause exists every deposit
write refreshes the clauses covering it, which the spreadsheet import must not pay for, and
the next size's database is copied from this one and topped up in bulk, past the signals
that keep the clauses' deposits.
"""

import contextlib
import datetime
from collections.abc import Iterator

from django.utils import timezone

PREFIX = "SYN bench partner"  # "SYN": synthetic, as reports.synthetic names its records
GRANTS = 50
PER_MEMORANDUM = 5
NAMED = 10  # deposits a clause naming deposits names
BOX_DEGREES = 0.2  # half the side of a clause's box


def _organisations():
    from cooperation.models import Organisation

    return Organisation.objects.filter(name__startswith=PREFIX)


def remove() -> None:
    """Everything `keys` made, with the access records and change log of its partners."""
    from bench.run import vacuum
    from cooperation.models import (
        DataGrant,
        GrantChange,
        GrantedDeposit,
        GrantPeriod,
        Memorandum,
        MemorandumParty,
        MemorandumTransition,
        Organisation,
        Person,
    )
    from kernel import access
    from kernel.models import AccessRecord, ApiKey

    access.flush()  # the reads waiting for the bulk insert, so none outlives its partner
    organisations = _organisations()
    ids = list(organisations.values_list("pk", flat=True))
    memoranda = Memorandum.objects.filter(title__startswith=PREFIX)
    memoranda.delete()  # their parties, transitions and clauses with them
    DataGrant.objects.filter(organisation__in=organisations).delete()
    GrantChange.objects.filter(organisation__in=organisations).delete()
    AccessRecord.objects.filter(organisation__in=organisations).delete()
    Person.objects.filter(organisation__in=organisations).delete()
    organisations.delete()  # their keys with them
    # Their history too, so runs do not pile it up in the benchmark database.
    Memorandum.history.filter(title__startswith=PREFIX).delete()
    DataGrant.history.filter(organisation_id__in=ids).delete()
    Person.history.filter(name__startswith=PREFIX).delete()
    Organisation.history.filter(name__startswith=PREFIX).delete()
    # The deleted rows cleared before the next run reads past them: where autovacuum is
    # off or has not come round, each run's partner reads were slowed by the dead rows of
    # every run before it (docs/performance.md).
    vacuum(
        [Memorandum, MemorandumParty, MemorandumTransition, DataGrant, GrantedDeposit]
        + [GrantPeriod, GrantChange, AccessRecord, Person, Organisation, ApiKey]
        + [model.history.model for model in (Memorandum, DataGrant, Person, Organisation)]
    )


def _scope(n: int, minerals, regions, internal, sample_pk, cells) -> dict:
    """The n-th clause's scope: named deposits (two in five), a mineral, a mineral in a
    region (a whole region every fourth time), or a box around a place on land."""
    from deposits.models import LATITUDE_RANGE, LONGITUDE_RANGE

    kind = n % 5
    if kind in (0, 4):
        start = (n // 5 * 2 + (kind == 4)) * NAMED
        named = internal[start : start + NAMED]
        if n == 0:
            named = [sample_pk, *named]
        return {"deposits": named or [sample_pk]}
    if kind == 1:
        return {"minerals": [minerals[n % len(minerals)]]}
    if kind == 2:
        region = regions[n % len(regions)]
        whole = n % 4 == 2
        return {"regions": [region], "minerals": [] if whole else [minerals[n % len(minerals)]]}
    lat, lon, _region = cells[(n * 7919) % len(cells)]
    lat, lon = float(lat), float(lon)
    return {
        "area": [
            max(float(LONGITUDE_RANGE[0]), lon - BOX_DEGREES),
            max(float(LATITUDE_RANGE[0]), lat - BOX_DEGREES),
            min(float(LONGITUDE_RANGE[1]), lon + BOX_DEGREES),
            min(float(LATITUDE_RANGE[1]), lat + BOX_DEGREES),
        ]
    }


def _clause(memorandum, organisation, scope: dict, shares_reserves: bool):
    """A clause made as the admin makes one: validated with its scope, then saved."""
    from cooperation.models import DataGrant

    clause = DataGrant(
        memorandum=memorandum,
        organisation=organisation,
        area=scope.get("area"),
        shares_reserves=shares_reserves,
        note="synthetic benchmark clause",
    )
    clause.scope_in_edit = {
        "deposits": scope.get("deposits", []),
        "minerals": scope.get("minerals", []),
        "regions": scope.get("regions", []),
    }
    clause.full_clean()
    clause.scope_in_edit = None
    clause.save()
    clause.deposits.set(scope.get("deposits", []))
    clause.minerals.set(scope.get("minerals", []))
    clause.regions.set(scope.get("regions", []))
    return clause


def make(sample_pk: int) -> tuple[str, str]:
    """The two partners and their keys: (without clauses, with `GRANTS` clauses in force).
    `sample_pk`: the deposit the detail reads, named by the first clause."""
    from bench.run import vacuum
    from cooperation.models import (
        DataGrant,
        GrantChange,
        GrantedDeposit,
        Memorandum,
        MemorandumParty,
        MemorandumTransition,
        Organisation,
        Person,
    )
    from cooperation.services import record_transition
    from deposits.models import Deposit, Mineral, Region
    from kernel.models import ApiKey
    from reports.synthetic import land_cells

    def organisation(name, country, kind):
        return Organisation.objects.create(name=f"{PREFIX} {name}", country=country, kind=kind)

    ministry = organisation("ministry", "TJ", Organisation.Kind.MINISTRY)
    plain = organisation("without clauses", "CN", Organisation.Kind.GEOLOGICAL_SURVEY)
    granted = organisation("with clauses", "KR", Organisation.Kind.GEOLOGICAL_SURVEY)
    signatories = {
        party: Person.objects.create(name=f"{PREFIX} signatory {n}", organisation=party)
        for n, party in enumerate((ministry, granted))
    }
    minerals = list(Mineral.objects.order_by("code").values_list("pk", flat=True))
    regions = list(Region.objects.order_by("code").values_list("pk", flat=True))
    internal = list(
        Deposit.objects.filter(name__startswith="SYN-", visibility="internal")
        .order_by("pk")
        .values_list("pk", flat=True)[: GRANTS * NAMED]
    )
    cells = land_cells()
    today = timezone.localdate()
    for m in range(-(-GRANTS // PER_MEMORANDUM)):
        signed_on = today - datetime.timedelta(days=30 * (m + 1))
        memorandum = Memorandum.objects.create(
            title=f"{PREFIX} memorandum {m + 1}",
            kind=Memorandum.Kind.MEMORANDUM,
            signed_on=signed_on,
            # Most run on; some end in a year, so their closing is logged ahead too.
            valid_until=today + datetime.timedelta(days=365) if m % 3 == 0 else None,
        )
        for party, person in signatories.items():
            MemorandumParty.objects.create(
                memorandum=memorandum, organisation=party, signatory=person
            )
        # Clauses before the signing: the signing opens them all at once, as in life.
        for n in range(m * PER_MEMORANDUM, min(GRANTS, (m + 1) * PER_MEMORANDUM)):
            scope = _scope(n, minerals, regions, internal, sample_pk, cells)
            _clause(memorandum, granted, scope, shares_reserves=n % 2 == 0)
        record_transition(memorandum, "signed", signed_on)
    # A settled database, as after the synthetic load: statistics (freshly filled tables
    # the planner has not seen get nested loops over what it takes for no rows), and the
    # visibility map autovacuum would set, without which each read of the covered
    # deposits visits the table's rows as well as its index (docs/performance.md).
    vacuum([DataGrant, GrantedDeposit, GrantChange, MemorandumParty, MemorandumTransition])
    _, plain_key = ApiKey.issue(organisation=plain, note="make bench (synthetic)")
    _, granted_key = ApiKey.issue(organisation=granted, note="make bench (synthetic)")
    return plain_key, granted_key


@contextlib.contextmanager
def keys(sample_pk: int) -> Iterator[tuple[str, str]]:
    """(key without clauses, key with clauses) for the time of the block (see `make`)."""
    remove()  # what a run stopped midway left behind
    try:
        yield make(sample_pk)
    finally:
        remove()
