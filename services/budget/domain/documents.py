"""Invoices, receipts and evidence of purchase: what may be stored, judged by its bytes, not its name."""

from __future__ import annotations

import re

from shared.errors import DomainError, Forbidden

MAX_BYTES = 5 * 1024 * 1024
KINDS = ("invoice", "receipt", "evidence")
# The first bytes of each type we keep (the files' own signatures), and the name's ending for it.
SIGNATURES: dict[str, tuple[bytes, str]] = {
    "application/pdf": (b"%PDF-", "pdf"),
    "image/jpeg": (b"\xff\xd8\xff", "jpg"),
    "image/png": (b"\x89PNG\r\n\x1a\n", "png"),
}
# Who may add which kind: a provider its invoices and receipts, an advisor evidence of purchase.
UPLOADERS: dict[str, tuple[str, ...]] = {
    "provider": ("invoice", "receipt"),
    "advisor": ("evidence", "receipt"),
    "admin": KINDS,
}
READERS = ("provider", "advisor", "finance", "admin")
# What evidences a paid request's purchase, from someone who may evidence it (not a provider).
EVIDENCE_KINDS = ("evidence", "receipt")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9 ._()-]+")


class TooLarge(DomainError):
    status, type_slug, title = 413, "too-large", "The file is too large"


class UnsupportedType(DomainError):
    status, type_slug, title = 415, "unsupported-media-type", "This kind of file can't be stored"


def sniff(head: bytes) -> str | None:
    """The type the file's first bytes say it is, or None if it is none of ours."""
    for content_type, (signature, _) in SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    return None


def check_file(body: bytes, declared: str | None) -> str:
    """The file's content type: 413 if too big, 415 if not PDF, JPEG or PNG or not what it says."""
    if len(body) > MAX_BYTES:
        raise TooLarge(
            f"A file can be at most {MAX_BYTES // (1024 * 1024)} MB; this one is "
            f"{len(body) / (1024 * 1024):.1f} MB.",
            errors={"file": [f"At most {MAX_BYTES} bytes."]},
        )
    if not body:
        raise UnsupportedType("The file is empty.", errors={"file": ["The file is empty."]})
    found = sniff(body[:16])
    if found is None:
        raise UnsupportedType(
            "Only PDF, JPEG or PNG files can be stored; this file is none of them.",
            errors={"file": ["Must be a PDF, JPEG or PNG file."]},
        )
    said = (declared or "").split(";", 1)[0].strip().lower()
    if said and said not in ("application/octet-stream", found):
        raise UnsupportedType(
            f"The file says it is {said[:60]} but its content is {found}.",
            errors={"file": ["Its content is not the type it says it is."]},
        )
    return found


def check_uploader(role: str, kind: str) -> None:
    if kind not in UPLOADERS.get(role, ()):
        raise Forbidden(f"A {role} can't add a file of the kind '{kind}'.")


def display_name(filename: str | None, content_type: str) -> str:
    """A name safe to show and to offer on download: plain characters, our own ending."""
    stem = _SAFE_NAME.sub("", (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    stem = stem.rsplit(".", 1)[0].strip()[:80] or "document"
    return f"{stem}.{SIGNATURES[content_type][1]}"
