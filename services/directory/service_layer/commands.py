"""Commands: what a caller asks the directory to do, as small typed values.

A listing's or a provider's fields stay the mapping the API schema loaded (`values`): the schema
names and checks every field, and the use case applies only the ones given (a PATCH)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.identity import Identity


@dataclass(frozen=True, kw_only=True)
class AddListing:
    """A provider adds a listing for its own organisation, or an admin for any."""

    actor: Identity
    values: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class ChangeListing:
    """Change the given fields (or, with `replace`, the whole listing) of the version read."""

    actor: Identity
    listing_id: str
    values: Mapping[str, Any]
    if_match: str | None
    replace: bool = False


@dataclass(frozen=True, kw_only=True)
class ArchiveListing:
    actor: Identity
    listing_id: str
    if_match: str | None


@dataclass(frozen=True, kw_only=True)
class AssureListing:
    """An admin confirms the listing is right today."""

    actor: Identity
    listing_id: str
    if_match: str | None


@dataclass(frozen=True, kw_only=True)
class AddProvider:
    """An admin adds a provider (unchecked until its due diligence is recorded)."""

    actor: Identity
    values: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class RecordCheck:
    """An admin records a due diligence check and its expiry."""

    actor: Identity
    provider_id: str
    kind: str
    expires_on: date
    checked_on: date | None = None
    reference: str | None = None
    notes: str | None = None
