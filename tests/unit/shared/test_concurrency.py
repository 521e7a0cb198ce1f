"""The one optimistic-concurrency helper: ETags from a version column, 428 and 412."""

from dataclasses import dataclass

import pytest

from shared.concurrency import check_if_match, etag, etag_header, etag_of, if_match_tags
from shared.errors import PreconditionFailed, PreconditionRequired


@dataclass
class Record:
    id: str
    version: int


RECORD = Record("8f7c3a52-52a4-4a5e-9d0f-1c2b3d4e5f60", 3)


def test_an_etag_names_the_record_and_its_version():
    assert etag("abc", 7) == '"abc.7"'
    assert etag_of(RECORD) == f'"{RECORD.id}.3"'
    assert etag_header(RECORD) == {"ETag": f'"{RECORD.id}.3"'}


@pytest.mark.parametrize("header", [None, "", "   "])
def test_an_edit_without_if_match_is_refused_with_428(header):
    with pytest.raises(PreconditionRequired) as caught:
        check_if_match(header, RECORD, what="plan")
    assert caught.value.status == 428
    assert "plan's ETag" in caught.value.detail


@pytest.mark.parametrize("header", [f'"{RECORD.id}.2"', '"other.3"', f"{RECORD.id}.3"])
def test_a_stale_or_foreign_etag_is_refused_with_412_naming_the_current_one(header):
    with pytest.raises(PreconditionFailed) as caught:
        check_if_match(header, RECORD, what="listing")
    assert caught.value.status == 412
    assert caught.value.extra == {"current_etag": f'"{RECORD.id}.3"'}


@pytest.mark.parametrize(
    "header",
    [f'"{RECORD.id}.3"', f'W/"{RECORD.id}.3"', f'"x.1", "{RECORD.id}.3"', "*"],
)
def test_the_current_etag_weak_form_a_list_holding_it_or_a_star_passes(header):
    check_if_match(header, RECORD)


def test_if_match_lists_are_split_and_trimmed():
    assert if_match_tags(' "a.1" , W/"b.2",, ') == ['"a.1"', '"b.2"']
