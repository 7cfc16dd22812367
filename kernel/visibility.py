"""Who may see which records: one implementation for every surface.

Anonymous callers see `public` records; holders of a partner key see `public`
and `partners`; staff see everything. Hidden records answer 404, never 403.
"""

from kernel.models import Visibility

PUBLIC_ONLY = frozenset({Visibility.PUBLIC})
PARTNER_LEVELS = frozenset({Visibility.PUBLIC, Visibility.PARTNERS})
ALL_LEVELS = frozenset(Visibility.values)


def visibility_levels(request) -> frozenset[str]:
    """The visibility levels the caller of this request may read."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return ALL_LEVELS
    auth = getattr(request, "auth", None)
    if getattr(auth, "grants_partner_access", False):
        return PARTNER_LEVELS
    return PUBLIC_ONLY
