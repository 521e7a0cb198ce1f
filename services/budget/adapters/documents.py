"""Where uploaded files are kept: one port, two adapters (files on disk, an S3-compatible bucket).

`document_store` picks the adapter from the settings' URL scheme: `file://` in demo and tests,
`s3://bucket/prefix` in production.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from services.budget.settings import DocumentStorageSettings
from shared.errors import DependencyUnavailable

KEY_PATTERN = _KEY = re.compile(r"^[0-9a-f]{32}$")


class DocumentStore(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def keys_before(self, moment: datetime) -> Iterator[str]:
        """Every key of ours whose bytes were last written before `moment` (for the sweep)."""
        ...


class StoreUnavailable(DependencyUnavailable):
    """The store could not keep or give back a file (503 with Retry-After)."""

    def __init__(self, detail: str = "The document store is unavailable; try again shortly."):
        super().__init__(detail, retry_after=10)


def checked_key(key: str) -> str:
    """A key is ours (32 hex digits), never anything a user typed."""
    if not _KEY.match(key):
        raise ValueError("a document key is 32 hex digits")
    return key


class DiskStore:
    """One file per document, named by its key (never by anything a user typed)."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        checked_key(key)
        return self.root / key[:2] / key

    def put(self, key: str, body: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys_before(self, moment: datetime) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in self.root.glob("??/*"):
            if not _KEY.match(path.name) or path.parent.name != path.name[:2]:
                continue  # a temporary file of a write in progress, or not ours
            written = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            if written < moment:
                yield path.name


def document_store(settings: DocumentStorageSettings) -> DocumentStore:
    """The adapter the settings' URL names."""
    if settings.scheme == "s3":
        from services.budget.adapters.s3_documents import S3Store

        return S3Store.from_settings(settings)
    return DiskStore(Path(settings.folder))
