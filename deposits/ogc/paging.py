"""A page of OGC items: by cursor (what `next` links carry) or by offset.

`next` carries a cursor (`kernel.keyset`): the page after it starts after the values of
the items query's order (`ItemsQuery.ordering`, whatever sets it) in the last feature
of this page, so the thousandth page costs what the first does, and records added or
removed between two requests skip or repeat none. `prev` of a page reached by cursor is
a reverse cursor (before its first feature); `prev` of a page reached by `offset` is an
offset, as before cursors existed.

Either way the keys of the page's features are chosen first, by a query that reads only
the order's columns (an index's, for the default order), and then only those rows are
read whole (joins, properties), so an offset skips keys, not documents.
"""

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from deposits.querysets import deposit_rows
from kernel.keyset import Keyset, Uncursorable
from kernel.visibility import Caller

SCOPE = "ogc-items"


@dataclass(frozen=True)
class Page:
    rows: list[dict]  # deposit rows (`deposit_rows`), in order
    start: int | None  # the offset of the first row, when the page was asked by offset
    at: tuple[str, object]  # the parameter that asked for this page: (`cursor`|`offset`, value)
    next: tuple[str, object] | None  # the same for the next page, None at the end
    prev: tuple[str, object] | None


def read_page(query, matched: int, caller: Caller, on: date | None) -> Page:
    """The page `query` asks for (`cursor`, else `offset`), of `matched` deposits."""
    matching = query.deposits()
    try:
        keyset = Keyset(matching, query.ordering, scope=SCOPE)
    except Uncursorable:  # no order of the items query is computed; kept safe anyway
        keyset = None
    if query.cursor is not None:  # given, even empty
        if keyset is None:
            raise ValidationError({"cursor": [_("This order cannot be paged by cursor.")]})
        return _by_cursor(query, matching, keyset, caller, on)
    start = min(query.offset, matched)  # an offset beyond SQL's integers never reaches SQL
    window = matching.values("pk")[start : start + query.limit]
    rows = _rows(matching, window, keyset, caller, on)
    following = None
    if start + len(rows) < matched and rows:
        following = _cursor_after(keyset, rows[-1], start + len(rows))
    previous = ("offset", max(query.offset - query.limit, 0)) if query.offset > 0 else None
    return Page(rows, start, ("offset", query.offset), following, previous)


def _rows(matching, window, keyset, caller, on) -> list[dict]:
    # The window's keys read first, then the rows of those keys (still under every
    # condition, as a record may change between the two statements). As a subquery, the
    # planner tested every deposit against the conditions (a partner's clauses among
    # them) to keep a hundred. At most LIMIT_MAX + 1 keys: within the number of query
    # parameters SQLite and PostgreSQL take.
    deposits = matching.filter(pk__in=[row["pk"] for row in window])
    extra = ()
    if keyset is not None:
        deposits, extra = keyset.annotated(deposits), tuple(keyset.names)
    return list(deposit_rows(deposits, caller, on=on, extra=extra, streamed=False))


def _cursor_after(keyset, row, offset) -> tuple[str, object]:
    if keyset is None:
        return ("offset", offset)
    return ("cursor", keyset.encode(row))


def _by_cursor(query, matching, keyset: Keyset, caller, on) -> Page:
    # An empty cursor starts a walk by cursor at the first page.
    cursor = keyset.decode(query.cursor) if query.cursor else None
    # One more than the page: whether another page follows in the cursor's direction.
    window = keyset.window(matching, cursor, query.limit + 1)
    rows = _rows(matching, window, keyset, caller, on)
    more = len(rows) > query.limit
    before = cursor is not None and cursor.before
    if more:
        rows = rows[1:] if before else rows[:-1]
    at = ("cursor", query.cursor)
    if not rows:
        if cursor is None:
            return Page(rows, None, at, None, None)
        # Nothing on this side of the cursor (its records were removed): the other way
        # starts at the same place.
        back = keyset.encode_values(cursor.values, before=not before, at=True)
        if before:
            return Page(rows, None, at, ("cursor", back), None)
        return Page(rows, None, at, None, ("cursor", back))
    first = ("cursor", keyset.encode(rows[0], before=True))
    last = ("cursor", keyset.encode(rows[-1]))
    if before:
        return Page(rows, None, at, last, first if more else None)
    return Page(rows, None, at, last if more else None, first if cursor else None)
