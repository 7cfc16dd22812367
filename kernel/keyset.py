"""Keyset (cursor) paging: a page starts after the last record of the page before it.

An offset page makes the database read and skip every record before it, so the
thousandth page costs a thousand pages. A cursor names where the previous page ended
(the values of the order's terms in its last record) and the next page is the records
after those values in the same order: `WHERE (name, pk) > ('Konimansur', 17)`, spelled
as Q objects over each term, so it is the same on SQLite and PostgreSQL and pages
any order the queryset has, ascending or descending, with NULLs first or last as the
database sorts them. The order must be total (its last term unique, the primary key).

Records added or removed between two requests move no page boundary: each page starts
after the values the previous one ended at, so no record is skipped or listed twice.

A cursor is opaque to clients: the values, signed (`django.core.signing`, with the
order in the salt), so one altered, forged or taken from another order is refused, as
a 400 naming the parameter.
"""

import datetime
import decimal
import hashlib
import json
import uuid
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.models import F, OrderBy, Q, QuerySet
from django.db.models.expressions import BaseExpression
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

# The names the order's terms are annotated under, to read a page's last values.
PREFIX = "keyset_"


class Uncursorable(ValueError):
    """An order a cursor cannot page: a term computed by the query (a share, a search
    score) rather than read from a field."""


@dataclass(frozen=True)
class Term:
    """One term of an order: what is compared, its direction, where NULLs go when the
    order says so (None: where the database puts them), and whether it can be NULL."""

    expression: BaseExpression
    descending: bool
    nulls: str | None  # "first", "last" or None
    nullable: bool

    def nulls_last(self, connection) -> bool:
        """Whether NULLs come after the values in this term's direction."""
        if self.nulls is not None:
            return self.nulls == "last"
        # PostgreSQL sorts NULLs as larger than any value, SQLite as smaller.
        return connection.features.nulls_order_largest != self.descending

    def reversed(self) -> "Term":
        flipped = {"first": "last", "last": "first", None: None}[self.nulls]
        return Term(self.expression, not self.descending, flipped, self.nullable)

    def order_by(self) -> OrderBy:
        return OrderBy(
            self.expression,
            descending=self.descending,
            nulls_first=self.nulls == "first" or None,
            nulls_last=self.nulls == "last" or None,
        )


def _field_nullable(model, path: str) -> bool:
    """Whether a field path can read NULL (a nullable field, or one across a relation
    that may be missing); unknown paths are taken as nullable."""
    *relations, last = path.split("__")
    if last == "pk" and not relations:
        return False
    try:
        meta = model._meta
        for name in relations:
            field = meta.get_field(name)
            if field.null or not field.is_relation or field.many_to_many or field.one_to_many:
                return True
            meta = field.related_model._meta
        return meta.get_field(last).null
    except FieldDoesNotExist:
        return True


def _computed(queryset: QuerySet, expression) -> bool:
    """Whether an expression reads what the query computes (an annotation or alias)."""
    annotations = queryset.query.annotations
    for ref in expression.flatten() if hasattr(expression, "flatten") else [expression]:
        if isinstance(ref, F) and ref.name.split("__")[0] in annotations:
            return True
    return False


def terms_of(queryset: QuerySet, ordering=None) -> list[Term]:
    """The terms of `ordering` (the queryset's own order when None: its `order_by`, or its
    model's default). Uncursorable for random order or a computed term."""
    query = queryset.query
    if ordering is None:
        ordering = list(query.order_by) or (
            list(query.get_meta().ordering) if query.default_ordering else []
        )
    terms = []
    for item in ordering:
        if isinstance(item, str):
            if item == "?" or "." in item:
                raise Uncursorable(item)
            name = item.lstrip("-")
            expression, descending, nulls = F(name), item.startswith("-"), None
            nullable = _field_nullable(queryset.model, name)
        else:
            if isinstance(item, OrderBy):
                expression, descending = item.expression, item.descending
                nulls = "first" if item.nulls_first else "last" if item.nulls_last else None
            else:
                expression, descending, nulls = item, False, None
            nullable = True
            if isinstance(expression, F):
                nullable = _field_nullable(queryset.model, expression.name)
        if _computed(queryset, expression):
            raise Uncursorable(str(item))
        terms.append(Term(expression, descending, nulls, nullable))
    if not terms:
        raise Uncursorable("")
    return terms


class _Encoder(json.JSONEncoder):
    """Values as text the database reads back exactly (microseconds and decimals kept)."""

    def default(self, o):
        if isinstance(o, datetime.date | datetime.time):
            return o.isoformat()
        if isinstance(o, decimal.Decimal | uuid.UUID):
            return str(o)
        return super().default(o)


class _Serializer:
    def dumps(self, obj) -> bytes:
        return json.dumps(obj, cls=_Encoder, separators=(",", ":")).encode("latin-1")

    def loads(self, data: bytes):
        return json.loads(data.decode("latin-1"))


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after `values` (before them, for a `prev` page; `at`: the
    record with these values included, for the way back from an empty last page)."""

    values: tuple
    before: bool = False
    at: bool = False


class Keyset:
    """A queryset's total order, paged by cursor.

    `scope` names the list (`ogc-items`, an API route): a cursor is only read back by
    the list and order it was made for."""

    def __init__(self, queryset: QuerySet, ordering=None, scope: str = ""):
        self.terms = terms_of(queryset, ordering)
        self.names = [f"{PREFIX}{index}" for index in range(len(self.terms))]
        fingerprint = hashlib.sha256(repr(self.terms).encode()).hexdigest()[:16]
        self.salt = f"kernel.keyset:{scope}:{fingerprint}"
        self.connection = connections[queryset.db]

    # --- cursors -------------------------------------------------------------------

    def encode(self, row: dict, before: bool = False) -> str:
        """The cursor after (or `before`) a row read from `annotated` (its values under
        `names`)."""
        return self.encode_values([row[name] for name in self.names], before)

    def encode_values(self, values, before: bool = False, at: bool = False) -> str:
        """The cursor after (or `before`) these values of the order's terms (`at`: and
        the record that has them)."""
        payload = [int(before) + 2 * int(at), list(values)]
        return signing.dumps(payload, salt=self.salt, serializer=_Serializer, compress=True)

    def decode(self, text: str, parameter: str = "cursor") -> Cursor:
        """The cursor `text`, or a 400 naming `parameter`."""
        try:
            how, values = signing.loads(text, salt=self.salt, serializer=_Serializer)
            if len(values) != len(self.terms) or how not in (0, 1, 2, 3):
                raise ValueError
        except (signing.BadSignature, ValueError, TypeError):
            raise ValidationError(
                {
                    parameter: [
                        _(
                            "Not a cursor of this list in this order; follow the next "
                            "and prev links as given."
                        )
                    ]
                }
            ) from None
        return Cursor(tuple(values), bool(how & 1), bool(how & 2))

    # --- queries -------------------------------------------------------------------

    def annotated(self, queryset: QuerySet) -> QuerySet:
        """The queryset with each term's value under `names`, to make the next cursor."""
        return queryset.annotate(**dict(zip(self.names, self._expressions(), strict=True)))

    def _expressions(self):
        return [term.expression for term in self.terms]

    def order(self, before: bool = False) -> list[OrderBy]:
        """The order, or (`before`) its reverse."""
        terms = [t.reversed() for t in self.terms] if before else self.terms
        return [term.order_by() for term in terms]

    def after(self, cursor: Cursor) -> Q:
        """The condition that a record comes after the cursor's values in its direction
        (before them, in the order's terms, for a `before` cursor), on a queryset given
        `alias(**{name: expression})` for each term."""
        terms = [t.reversed() for t in self.terms] if cursor.before else self.terms
        beyond, equal = Q(pk__in=[]), Q()
        for name, term, value in zip(self.names, terms, cursor.values, strict=True):
            nulls_last = term.nulls_last(self.connection)
            if value is None:
                if not nulls_last:  # NULLs first: every value comes after a NULL
                    beyond |= equal & Q(**{f"{name}__isnull": False})
                equal &= Q(**{f"{name}__isnull": True})
                continue
            later = Q(**{f"{name}__{'lt' if term.descending else 'gt'}": value})
            if nulls_last and term.nullable:
                later |= Q(**{f"{name}__isnull": True})
            beyond |= equal & later
            equal &= Q(**{name: value})
        if cursor.at:
            beyond |= equal
        first, value = terms[0], cursor.values[0]
        if value is not None and not first.nullable:
            # The same condition, with a bound on the first term an index can start from.
            bound = Q(**{f"{self.names[0]}__{'lte' if first.descending else 'gte'}": value})
            beyond = bound & beyond
        return beyond

    def window(self, queryset: QuerySet, cursor: Cursor | None, size: int) -> QuerySet:
        """The primary keys of the `size` records from the cursor on (from the start
        without one), nearest first: after it, or for a `before` cursor, before it and
        in reverse order. A subquery: the rows themselves are read in the order by
        `queryset.filter(pk__in=window)`."""
        selected = queryset.prefetch_related(None).alias(
            **dict(zip(self.names, self._expressions(), strict=True))
        )
        before = cursor is not None and cursor.before
        if cursor is not None:
            selected = selected.filter(self.after(cursor))
        return selected.order_by(*self.order(before)).values("pk")[:size]
