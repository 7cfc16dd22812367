"""Page-number paging: 50 records by default, `page_size` up to 1000 (larger is clamped)."""

from django.core.paginator import InvalidPage
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination

from kernel.parameters import whole_number


class RegistryPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request):
        size = whole_number(request.query_params, self.page_size_query_param)
        if size is None:
            return self.page_size
        return min(size, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
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

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    "Records per page: 50 by default; values above 1000 are clamped to 1000."
                )
        return parameters
