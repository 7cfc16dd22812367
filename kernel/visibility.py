"""Who may see which records: one rule for every surface.

Anonymous callers see `public` records; holders of a partner key see `public`
and `partners`; staff see everything. Hidden records answer 404, never 403.

Every surface (API, exports, GeoJSON, OGC, pages, search, statistics, the change
feed, cached answers) asks `Caller.of(request)` who is calling and reads records
through their queryset's `visible_to(caller)`; a count or join over related
records uses `visible(caller, path)`. Nothing else spells the rule.
"""

from dataclasses import dataclass

from django.db import models
from django.db.models import Q

from kernel.models import Visibility

PUBLIC_ONLY = frozenset({Visibility.PUBLIC})
PARTNER_LEVELS = frozenset({Visibility.PUBLIC, Visibility.PARTNERS})
ALL_LEVELS = frozenset(Visibility.values)


@dataclass(frozen=True)
class Caller:
    """Who reads: the visibility levels they may see."""

    levels: frozenset[str]

    @classmethod
    def of(cls, request) -> "Caller":
        """The caller of a request: staff user, partner key or anonymous."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            return STAFF
        auth = getattr(request, "auth", None)
        if getattr(auth, "grants_partner_access", False):
            return PARTNER
        return ANONYMOUS

    def sees(self, record) -> bool:
        """Whether this caller may see one record already read (it has a `visibility`)."""
        return record.visibility in self.levels

    @property
    def is_staff(self) -> bool:
        return self.levels == ALL_LEVELS

    @property
    def scope(self) -> str:
        """The levels this caller sees, named for a reader: `public`, `public+partners`,
        or `all` for staff (what a figure computed over what the caller sees is of)."""
        if self.is_staff:
            return "all"
        return "+".join(level for level in Visibility.values if level in self.levels)

    @property
    def cache_identity(self) -> str:
        """What distinguishes this caller's answers from another's in a shared cache."""
        return ",".join(sorted(self.levels))


ANONYMOUS = Caller(PUBLIC_ONLY)
PARTNER = Caller(PARTNER_LEVELS)
STAFF = Caller(ALL_LEVELS)


def visible(caller: Caller, path: str = "") -> Q:
    """The condition that a record (reached through `path`, e.g. `"deposit__"`) is one
    `caller` may see."""
    return Q(**{f"{path}visibility__in": caller.levels})


class VisibleQuerySet(models.QuerySet):
    """Records with a visibility of their own, or hanging off one (`visibility_path`, e.g.
    `"deposit__"` for a deposit's reserve estimates)."""

    visibility_path = ""

    def visible_to(self, caller: Caller):
        return self.filter(visible(caller, self.visibility_path))
