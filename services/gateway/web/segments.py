"""What a page lets into the path of a call to a service: identifiers in their own format, quoted.

A page's URL segment (`/approvals/<request_id>`) becomes a segment of the path it asks a service
for (`/requests/<request_id>`). `requests` (urllib3) resolves `.` and `..` there before sending,
and a service decodes `%2F` into a slash, so an odd value could reach another path of the service
than the one the page means. Three layers keep it to the intended one:

- at the edge, every URL value of every page is checked before the view runs
  (`check_view_args`, the blueprint's first before-request hook, so a new route is covered
  without anyone doing anything): a `*_id` is a UUID as the services write them, a `token` is URL-safe base64,
  anything else a plain segment; otherwise the page's own 404 page;
- `seg` quotes each value put into a service path (an architecture test holds every page's
  f-string path to it), and refuses a value that is no plain segment;
- `call_raw` refuses a path with a `.`/`..` segment or an encoded slash or backslash in any of its
  segments, however often encoded (`refuse_unsafe_path`), whatever built it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

from flask import abort

# Every id the services mint is str(uuid4()) or str(uuid5()) (36 characters); the directory
# also keeps imported ids any form `uuid.UUID` reads, in hex digits, hyphens and braces.
_ID = re.compile(r"[0-9A-Fa-f{}-]{32,38}")
# A check-in or feedback link: secrets.token_urlsafe(32), 43 characters of URL-safe base64.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,200}")
# Any other value: letters, digits and a few marks; never `%`, `/`, `\`, or a dot segment.
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]{1,200}")


def valid_id(value: str) -> bool:
    if _ID.fullmatch(value) is None:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def valid_segment(name: str, value: Any) -> bool:
    """Whether `value`, given for the URL variable `name`, is one the page may use."""
    if isinstance(value, int) and not isinstance(value, bool):  # <int:...>: digits only
        return True
    if not isinstance(value, str):
        return False
    if name.endswith("_id"):
        return valid_id(value)
    if name == "token":
        return _TOKEN.fullmatch(value) is not None
    return _PLAIN.fullmatch(value) is not None and value.strip(".") != ""


def check_view_args(values: Mapping[str, Any] | None) -> None:
    """The page's 404 for any URL value not in its format (the blueprint's first hook)."""
    for name, value in (values or {}).items():
        if not valid_segment(name, value):
            abort(404)


def seg(value: Any) -> str:
    """`value` as one segment of a service path: quoted; a 404 page if it is no plain segment
    (empty, `.` or `..`, or holding a slash, a backslash or a `%` to decode)."""
    text = str(value)
    if not text or text.strip(".") == "" or any(c in text for c in "/\\%"):
        abort(404)
    return quote(text, safe="")


def unsafe_segment(segment: str) -> bool:
    """`.`, `..`, or one that holds a slash or backslash, after decoding it as often as it
    decodes (each decoding that changes it shortens it, so this ends)."""
    while True:
        if segment in (".", "..") or "/" in segment or "\\" in segment:
            return True
        decoded = unquote(segment)
        if decoded == segment:
            return False
        segment = decoded


def refuse_unsafe_path(path: str) -> None:
    """The last check before a page's call leaves: its path as sent names only what it says."""
    if "." not in path and "%" not in path and "\\" not in path:
        return
    if any(unsafe_segment(s) for s in path.split("?", 1)[0].split("/")):
        abort(404)
