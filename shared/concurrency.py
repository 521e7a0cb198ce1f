"""Optimistic concurrency: an ETag made from a record's id and version column, and the If-Match
check every edit makes before it writes (428 when the header is missing, 412 when it is stale).

Check under the row lock (`SELECT ... FOR UPDATE`, or SQLite's write lock) in the same transaction
that bumps the version, so two editors holding one ETag can never both win."""

from __future__ import annotations

from typing import Protocol

from shared.errors import PreconditionFailed, PreconditionRequired


class Versioned(Protocol):
    """Anything with an id and a version column that goes up by one on every change."""

    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...


def etag(resource_id: str, version: int) -> str:
    """The strong ETag of one version of one record: `"<id>.<version>"`."""
    return f'"{resource_id}.{version}"'


def etag_of(record: Versioned) -> str:
    return etag(str(record.id), record.version)


def etag_header(record: Versioned) -> dict[str, str]:
    """The response header a view returns with the record (flask-smorest: `return body, headers`)."""
    return {"ETag": etag_of(record)}


def if_match_tags(if_match: str) -> list[str]:
    """The entity tags an If-Match header lists (weak tags compare by their opaque part)."""
    return [tag.strip().removeprefix("W/") for tag in if_match.split(",") if tag.strip()]


def check_if_match(if_match: str | None, record: Versioned, *, what: str = "record") -> None:
    """Refuse an edit unless the caller sent the ETag of the version it is about to change."""
    if not if_match or not if_match.strip():
        raise PreconditionRequired(
            f"Send If-Match with the {what}'s ETag, so two editors never overwrite each other."
        )
    current = etag_of(record)
    tags = if_match_tags(if_match)
    if "*" not in tags and current not in tags:
        raise PreconditionFailed(
            f"The {what} changed since you read it: read it again and reapply your change.",
            current_etag=current,
        )
