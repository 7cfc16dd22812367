"""kernel.links: URLs resolved once and filled in are the URLs `reverse` gives."""

import pytest
from django.urls import reverse

from kernel.links import url_maker, url_parts


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("deposit-detail", "TJD-000123"),
        ("deposit-detail", "a b ц&?#"),  # quoted as reverse quotes it
        ("region-detail", "TJ-SU"),
        ("mineral-detail", "rare-earths"),
    ],
)
def test_a_filled_in_url_is_the_reversed_one(name, value):
    assert url_maker(name)(value) == reverse(name, args=[value])


def test_the_parts_surround_the_argument():
    head, tail = url_parts("deposit-detail")
    assert head + "TJD-000001" + tail == reverse("deposit-detail", args=["TJD-000001"])
