"""Who may see which records: one rule for every surface.

Anonymous callers see `public` records; holders of a partner key see `public`
and `partners`; staff see everything. A partner key also sees what a data-sharing
grant in force gives its organisation (`OPENS_RECORD`: the deposit records a grant
covers, `OPENS_FIGURES`: their reserve estimates and balance movements, only when the
grant shares them), whatever their level. Hidden records answer 404, never 403.

Every surface (API, exports, GeoJSON, OGC, pages, search, statistics, the change
feed, cached answers) asks `Caller.of(request)` who is calling and reads records
through their queryset's `visible_to(caller)`; a count or join over related
records uses `visible(caller, path, opens)`. Nothing else spells the rule.

Grants are the cooperation app's (memoranda and their clauses), which the kernel may
not import: the app registers, when it is ready, a function per kind of opening
(`register_opening`) that answers the primary keys of what is open to an organisation
today, as a subquery whose rows keep the opened record's `visibility`. The kernel ORs
into the condition only the rows beyond the caller's levels: what the levels show already
needs no subquery, and a clause by mineral or region covers most of a registry.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.db.models import Q
from django.utils import timezone

from kernel.models import ApiKey, Visibility

PUBLIC_ONLY = frozenset({Visibility.PUBLIC})
PARTNER_LEVELS = frozenset({Visibility.PUBLIC, Visibility.PARTNERS})
ALL_LEVELS = frozenset(Visibility.values)

# What a grant may open beyond the caller's levels: a deposit's record (its document,
# its minerals) and its reserve figures (estimates, balance movements).
OPENS_RECORD = "record"
OPENS_FIGURES = "figures"

# kind -> function(organisation id) returning a queryset of the primary keys open to it
# today. Filled by the cooperation app (cooperation.grants); empty without it.
_openings: dict[str, Callable[[int], models.QuerySet]] = {}


def register_opening(kind: str, opened: Callable[[int], models.QuerySet]) -> None:
    """Let `opened(organisation_id)` (a queryset of primary keys, read as a subquery, on
    rows with a `visibility` field keeping the opened record's) add records of `kind` to
    what a partner key of that organisation sees."""
    _openings[kind] = opened


@dataclass(frozen=True)
class Caller:
    """Who reads: the visibility levels they may see, and for a partner key its
    organisation (whose grants may open more)."""

    levels: frozenset[str]
    organisation_id: int | None = None

    @classmethod
    def of(cls, request) -> "Caller":
        """The caller of a request: staff user (signed in, or through a staff key), partner
        key or anonymous."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            return STAFF
        auth = getattr(request, "auth", None)
        if isinstance(auth, ApiKey):
            return cls.of_key(auth)
        return ANONYMOUS

    @classmethod
    def of_key(cls, api_key: ApiKey | None) -> "Caller":
        """Who an API key reads as, with or without a request: the one place a key's
        holder becomes a caller, used by `of(request)` and by work done for the key's
        holder later (a webhook delivery). A key that is revoked or expired, or whose
        staff user is no longer an active staff member, reads as anonymous."""
        if api_key is None or not api_key.is_active:
            return ANONYMOUS
        if api_key.user_id is not None:
            user = api_key.user
            return STAFF if user.is_active and user.is_staff else ANONYMOUS
        if api_key.grants_partner_access:
            return Caller(PARTNER_LEVELS, api_key.organisation_id)
        return ANONYMOUS

    def sees(self, record) -> bool:
        """Whether this caller may see one record already read, by its own `visibility`
        (for records no grant opens: events, memoranda, initiatives)."""
        return record.visibility in self.levels

    @property
    def is_staff(self) -> bool:
        return self.levels == ALL_LEVELS

    @property
    def may_hold_grants(self) -> bool:
        """Whether grants can open more to this caller than its levels (a partner key
        while the cooperation app registers openings); a read that must tell a deposit
        seen through a grant from one seen by its level asks this first, so other callers
        pay nothing for grants."""
        return self.organisation_id is not None and not self.is_staff and bool(_openings)

    @property
    def by_level(self) -> "Caller":
        """This caller without what grants open: what it sees by visibility level alone
        (a grant's figures are added to, not counted twice with, the levels' own)."""
        return Caller(self.levels)

    @property
    def scope(self) -> str:
        """The levels this caller sees, named for a reader: `public`, `public+partners`,
        or `all` for staff (what a figure computed over what the caller sees is of). A
        partner key's computed figures also count the deposits its grants open to it, if
        any (`docs/reserves.md`); the scope keeps its level's name."""
        if self.is_staff:
            return "all"
        return "+".join(level for level in Visibility.values if level in self.levels)

    @property
    def cache_identity(self) -> str:
        """What distinguishes this caller's answers from another's in a shared cache.

        A partner key's answers depend on its organisation's grants, and a grant opens
        and closes by date with no write to move the registry's generation on: so its
        answers are kept per organisation and per day."""
        identity = ",".join(sorted(self.levels))
        if self.may_hold_grants:
            identity += f";org={self.organisation_id};day={timezone.localdate().isoformat()}"
        return identity


ANONYMOUS = Caller(PUBLIC_ONLY)
PARTNER = Caller(PARTNER_LEVELS)
STAFF = Caller(ALL_LEVELS)


def visible(caller: Caller, path: str = "", opens: str | None = None) -> Q:
    """The condition that a record (reached through `path`, e.g. `"deposit__"`) is one
    `caller` may see. `opens` names what grants may open of it (`OPENS_RECORD` for a
    deposit, `OPENS_FIGURES` for its reserve figures; None for records no grant opens)."""
    condition = Q(**{f"{path}visibility__in": caller.levels})
    opened = opened_beyond(caller, path, opens)
    return condition if opened is None else condition | opened


def opened_beyond(caller: Caller, path: str = "", opens: str | None = None) -> Q | None:
    """The part of `visible` a grant adds: the condition that a clause in force opens the
    record to `caller` beyond its levels; None where no grant can open it to `caller`.
    Asked on its own, it lets the database start from the few records clauses open."""
    opened = _openings.get(opens) if opens else None
    if opened is None or not caller.may_hold_grants:
        return None
    # Asked positively (the levels hidden from the caller), so an index reads them.
    beyond = sorted(ALL_LEVELS - caller.levels)
    return Q(**{f"{path}pk__in": opened(caller.organisation_id).filter(visibility__in=beyond)})


class VisibleQuerySet(models.QuerySet):
    """Records with a visibility of their own, or hanging off one (`visibility_path`, e.g.
    `"deposit__"` for a deposit's reserve estimates); `opens`: what a grant may open of
    them (see `visible`)."""

    visibility_path = ""
    opens: str | None = None

    def visible_to(self, caller: Caller):
        return self.filter(visible(caller, self.visibility_path, self.opens))
