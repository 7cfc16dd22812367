"""Deposits, minerals, regions and districts answering a typed name, for the search
endpoint and the list page's "did you mean": all ranked by the name matcher
(kernel/names.py), deposits only among those the caller may see."""

from deposits.models import Deposit, District, Mineral, Region
from kernel import names
from kernel.links import url_maker
from kernel.visibility import Caller


def _translated_names(record) -> list[str]:
    return [record.name, record.name_ru, record.name_tg]


def deposit_suggestions(
    deposits, query: str, limit: int, threshold: float = names.MATCH
) -> list[names.Suggestion]:
    """The best `limit` of `deposits` (a queryset already narrowed to what the caller
    may see) for `query`, labelled in the active language."""
    scored = deposits.matches(query, threshold)[:limit]
    found = deposits.only("public_id", "name", "name_ru", "name_tg").in_bulk(
        [pk for _, pk in scored]
    )
    page = url_maker("deposit-detail")
    return [
        names.Suggestion(
            "deposit",
            found[pk].public_id,
            found[pk].localized_name(),
            round(s, 1),
            page(found[pk].public_id),
        )
        for s, pk in scored
        if pk in found
    ]


def did_you_mean(deposits, query: str, limit: int = 3) -> list[names.Suggestion]:
    """Deposits whose names come near `query` though not near enough to match it: what
    the list page offers when a search finds nothing."""
    return deposit_suggestions(deposits, query, limit, threshold=names.DID_YOU_MEAN)


def suggestions(query: str, caller: Caller, limit: int) -> list[names.Suggestion]:
    """Deposits the caller may see, minerals, regions and districts answering `query`."""
    found = deposit_suggestions(Deposit.objects.visible_to(caller), query, limit)
    found += names.suggest(
        "mineral",
        query,
        Mineral.objects.order_by("code"),
        lambda m: [*_translated_names(m), m.code, m.symbol],
        lambda m: m.code,
        lambda m: m.localized_name(),
        lambda m: m.get_absolute_url(),
    )
    found += names.suggest(
        "region",
        query,
        Region.objects.order_by("code"),
        _translated_names,
        lambda r: r.code,
        lambda r: r.localized_name(),
        lambda r: r.get_absolute_url(),
    )
    found += names.suggest(  # a district's page is its region's, which lists it
        "district",
        query,
        District.objects.select_related("region").order_by("code"),
        _translated_names,
        lambda d: d.code,
        lambda d: d.localized_name(),
        lambda d: d.region.get_absolute_url(),
    )
    return found
