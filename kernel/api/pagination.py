"""Paging of the API's lists: by page number (50 records by default, `page_size` up to
1000, larger is clamped), or by cursor (`cursor`, `kernel.keyset`).

A page number makes the database skip every record before the page; a cursor names
where the previous page ended, so a deep page costs what the first does and a record
added or removed meanwhile moves no later page. `cursor=` (empty) starts a walk by
cursor; each page's `next` and `previous` then carry cursors. Lists ordered by a figure
the query computes (a deposit's share or quantity, a search's best match) page by
number only: there a cursor is a 400 naming it.
"""

from django.core.paginator import InvalidPage
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from kernel.keyset import Keyset, Uncursorable
from kernel.parameters import whole_number


class RegistryPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000
    cursor_query_param = "cursor"
    keyset = None  # set for a page asked by cursor, with `count`, `next_cursor`, `prev_cursor`

    def get_page_size(self, request):
        size = whole_number(request.query_params, self.page_size_query_param)
        if size is None:
            return self.page_size
        return min(size, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        if self.cursor_query_param in request.query_params:
            return self.paginate_by_cursor(queryset, request)
        whole_number(request.query_params, self.page_query_param)  # a malformed page is a 400
        self.request = request
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, page_size)
        page_number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage:
            raise NotFound(
                _("Page %(page)s does not exist; there are %(pages)s.")
                % {"page": page_number, "pages": paginator.num_pages}
            ) from None
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return list(self.page)

    def paginate_by_cursor(self, queryset, request):
        """The page after (or before) the cursor, `page_size` records, in the list's order;
        one record more is read to know whether another page follows."""
        param = self.cursor_query_param
        if self.page_query_param in request.query_params:
            raise ValidationError({param: [_("Give cursor or page, not both.")]})
        self.request = request
        size = self.get_page_size(request)
        try:
            keyset = Keyset(queryset, scope=request.path)
        except Uncursorable:
            raise ValidationError(
                {
                    param: [
                        _(
                            "This list is ordered by a computed figure (a share, a quantity, "
                            "a search's best match) and pages by page number only."
                        )
                    ]
                }
            ) from None
        text = request.query_params[param]
        cursor = keyset.decode(text, param) if text else None
        window = keyset.window(queryset, cursor, size + 1)
        records = list(keyset.annotated(queryset.filter(pk__in=window)))
        more = len(records) > size
        before = cursor is not None and cursor.before
        if more:
            records = records[1:] if before else records[:-1]
        self.keyset, self.count = keyset, queryset.count()
        self.next_cursor = self.prev_cursor = None
        if records:
            first, last = (self._values(keyset, records[i]) for i in (0, -1))
            if more or before:
                self.next_cursor = keyset.encode(last)
            if cursor is not None and (more or not before):
                self.prev_cursor = keyset.encode(first, before=True)
        elif cursor is not None:  # nothing on this side: the other way starts here
            back = keyset.encode_values(cursor.values, before=not before, at=True)
            self.next_cursor, self.prev_cursor = (back, None) if before else (None, back)
        return records

    @staticmethod
    def _values(keyset, record) -> dict:
        return {name: getattr(record, name) for name in keyset.names}

    def _cursor_link(self, cursor):
        if cursor is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_next_link(self):
        if self.keyset is not None:
            return self._cursor_link(self.next_cursor)
        return super().get_next_link()

    def get_previous_link(self):
        if self.keyset is not None:
            return self._cursor_link(self.prev_cursor)
        return super().get_previous_link()

    def get_paginated_response(self, data):
        if self.keyset is None:
            return super().get_paginated_response(data)
        return Response(
            {
                "count": self.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    "Records per page: 50 by default; values above 1000 are clamped to 1000."
                )
        parameters.append(
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": (
                    "Page by cursor instead of page number: empty for the first page, then "
                    "as the `next` and `previous` links give it. Not with `page`, nor for a "
                    "list ordered by share, quantity or best match of `q`."
                ),
                "schema": {"type": "string"},
            }
        )
        return parameters
