"""A request's body read outside Flask's dispatch exactly as werkzeug's `get_data()` reads it,
or left, whole, for Flask to read (shared.lean)."""

from __future__ import annotations

import io
from typing import Any


def read_body(environ: dict[str, Any], limit: int) -> bytes | None:
    """The body as Flask's `request.get_data()` reads it, within `limit`; None (nothing taken
    that Flask cannot read again) when it is chunked, larger than `limit` or its length odd.
    The body read is put back in `wsgi.input`, for Flask if it answers after all."""
    if "HTTP_TRANSFER_ENCODING" in environ:
        return None
    length = environ.get("CONTENT_LENGTH")
    if length is not None and length != "" and not (length.isascii() and length.isdigit()):
        return None
    size = int(length) if length else None
    if size is not None and size > limit:
        return None
    stream = environ["wsgi.input"]
    if "wsgi.input_terminated" in environ:  # read to its end, as werkzeug does (granian)
        data = _read(stream, limit + 1)
        if len(data) > limit:
            environ["wsgi.input"] = _Replayed(data, stream)
            return None
    elif size is None:
        data = b""  # werkzeug reads nothing
    else:
        data = _read(stream, size)
        if len(data) < size:  # the client went: Flask answers as it does then
            environ["wsgi.input"] = io.BytesIO(data)
            return None
    environ["wsgi.input"] = io.BytesIO(data)
    return data


def _read(stream: Any, size: int) -> bytes:
    parts = []
    left = size
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


class _Replayed:
    """A stream read in part: the part read, then the rest."""

    def __init__(self, head: bytes, rest: Any):
        self.head = io.BytesIO(head)
        self.rest = rest

    def read(self, size: int = -1) -> bytes:
        data = self.head.read(size)
        if size is None or size < 0:
            return data + self.rest.read()
        if len(data) < size:
            data += self.rest.read(size - len(data))
        return data
