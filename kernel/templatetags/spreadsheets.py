"""The spreadsheet import preview's rows: each value beside its column's name."""

from django import template

register = template.Library()


@register.filter
def beside(values, headers):
    """`row.values|beside:result.diff_headers` -> (column, value) pairs, in the sheet's order."""
    return list(zip(headers, values, strict=False))
