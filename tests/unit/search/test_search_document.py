"""A search document read back from what the index stores."""

from __future__ import annotations

from dataclasses import asdict

from services.directory.domain.search import SearchDocument
from tests.contract.search.fixtures import doc


def test_a_stored_document_reads_back_equal() -> None:
    listing = doc(1, "Harbour Gym", "Weights.", "Hastings", categories=["sport-fitness", "gym"])
    again = SearchDocument.from_dict(listing.as_dict())
    assert again == listing and asdict(again) == asdict(listing)


def test_unknown_fields_are_ignored_and_missing_ones_take_their_defaults() -> None:
    stored = doc(2, "Salsa", "Dance.", "Eastbourne").as_dict()
    stored["added_by_a_later_version"] = 1
    del stored["welcomes"], stored["times"]
    read = SearchDocument.from_dict(stored)
    assert read.name == "Salsa" and read.welcomes == [] and read.times == []
    assert not hasattr(read, "added_by_a_later_version")
