"""The demo catalogue file both seeds read agrees with the directory's demo data."""

from __future__ import annotations

from services.budget import seed as budget_seed
from services.directory import demo_data
from services.directory.seed import check_shared_catalogue
from shared.demo import demo_catalogue


def test_the_shared_file_is_what_the_directory_lays_out():
    assert list(demo_catalogue()) == demo_data.shared_catalogue()["listings"]
    check_shared_catalogue()  # the directory seed's own check passes


def test_the_budget_seed_describes_listings_as_the_directory_does():
    assert budget_seed.catalogue_size() == demo_data.LISTINGS
    for n in (0, 1, 77, demo_data.LISTINGS - 1):
        described, listing = budget_seed.demo_listing(n), demo_data.listing(n)
        assert (described.id, described.name, described.provider_id) == (
            listing.id,
            listing.name,
            listing.provider_id,
        )
        assert described.cost_option_id == (
            listing.cost_options[0].id if listing.cost_options else None
        )
    assert not budget_seed.demo_listing(77).fundable  # defunct listings are never funded
