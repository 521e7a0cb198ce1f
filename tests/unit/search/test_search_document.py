"""A search document read back from what the index stores."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, asdict

import orjson
import pytest

from services.directory.domain.search import SEQUENCE_FIELDS, SearchDocument
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
    assert read.name == "Salsa" and read.welcomes == () and read.times == ()
    assert not hasattr(read, "added_by_a_later_version")


def test_a_document_cannot_be_changed_in_place() -> None:
    """Decoded documents are kept and shared between searches (tantivy_index.DecodedDocuments):
    a change to one would show in every later search, so none is possible, whichever way the
    document was made."""
    built = doc(3, "Climbing", "Ropes.", "Hastings", categories=["sport-fitness"])
    read = SearchDocument.from_dict(built.as_dict())
    assert type(read.categories) is tuple and type(built.categories) is tuple
    for document in (built, read):
        with pytest.raises(FrozenInstanceError):
            document.name = "Changed"  # type: ignore[misc]
        with pytest.raises(FrozenInstanceError):
            del document.town  # type: ignore[misc]
        for name in SEQUENCE_FIELDS:
            assert type(getattr(document, name)) is tuple, name
        with pytest.raises(AttributeError):
            document.categories.append("changed")  # type: ignore[attr-defined]
    assert read == built and hash(read) == hash(built)


def test_a_document_built_from_lists_answers_as_before() -> None:
    """Tuples inside, arrays outside: its stored form and a result list's JSON are the lists'."""
    built = doc(4, "Swim", "Lanes.", "Bexhill", categories=["sport-fitness", "swimming"])
    body = asdict(built)
    assert json.dumps(body) == json.dumps(
        {k: list(v) if isinstance(v, tuple) else v for k, v in body.items()}
    )
    assert orjson.dumps(body) == orjson.dumps(
        {k: list(v) if isinstance(v, tuple) else v for k, v in body.items()}
    )


def test_a_null_where_a_list_belongs_reads_as_empty() -> None:
    stored = doc(5, "Chess", "Boards.", "Hastings").as_dict()
    stored["days"] = None
    read = SearchDocument.from_dict(stored)
    assert read.days == () and read.name == "Chess"
