"""Invoices, receipts and evidence of purchase on the pages: sending a file to the budget service,
turning its refusals into the GOV.UK file-upload messages, and passing a download through."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Response, abort, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from services.gateway.web.core import ServiceError, call_raw
from services.gateway.web.segments import seg

FILE_REFUSALS = {
    413: "The selected file must be smaller than 5MB",
    415: "The selected file must be a PDF, JPG or PNG",
}
# The largest body an upload page reads: a 5 MB file and the form around it. A larger one is not
# read at all (nor sent on): the page answers with its form and the size message, status 413.
UPLOAD_PAGE_BYTES = 5 * 1024 * 1024 + 64 * 1024


def upload_too_large() -> bool:
    """Whether this upload page's body is over the limit (parsed once, the answer remembered)."""
    if "upload_too_large" not in g:
        request.max_content_length = UPLOAD_PAGE_BYTES
        try:
            request.form  # noqa: B018 - parsing the body is what enforces the limit
            g.upload_too_large = False
        except RequestEntityTooLarge:
            g.upload_too_large = True
    return bool(g.upload_too_large)


@dataclass
class Received:
    """What an upload page's POST came to: the stored document, or the messages and status."""

    kind: str
    stored: dict[str, Any] | None = None
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 200


def receive(
    request_id: str, *, default_kind: str, kinds: tuple[str, ...], kind_error: str, file_error: str
) -> Received:
    """Check an upload page's form and send its file to the budget service."""
    if request.method != "POST":
        return Received(default_kind)
    if upload_too_large():  # the form is not read: nothing of it reaches the budget service
        return Received(default_kind, errors={"file": FILE_REFUSALS[413]}, status=413)
    got = Received(request.form.get("kind", default_kind))
    upload = request.files.get("file")
    if got.kind not in kinds:
        got.errors["kind"] = kind_error
    if upload is None or not upload.filename:
        got.errors["file"] = file_error
    if got.errors or upload is None:
        got.status = 400
        return got
    got.stored, refused, status = send_file(request_id, upload, got.kind)
    if got.stored is None:
        got.errors["file"], got.status = refused or "", status
    return got


def send_file(
    request_id: str, upload: Any, kind: str
) -> tuple[dict[str, Any] | None, str | None, int]:
    """(the stored document, None, 201), or (None, the message for the file field, its status)."""
    answer = call_raw(
        "budget",
        "POST",
        f"/requests/{seg(request_id)}/documents",
        files={"file": (upload.filename, upload.stream.read(), upload.mimetype)},
        data={"kind": kind},
    )
    if answer.status_code == 201:
        return answer.json(), None, 201
    if answer.status_code not in FILE_REFUSALS:
        raise ServiceError(answer.status_code, answer.json())
    return None, FILE_REFUSALS[answer.status_code], answer.status_code


def download(document_id: str) -> Response:
    """The budget's answer as it is: an attachment of the stored type, never a page."""
    try:
        uuid.UUID(document_id)
    except ValueError:
        abort(404)
    answer = call_raw("budget", "GET", f"/documents/{seg(document_id)}")
    if answer.status_code != 200:
        abort(404 if answer.status_code in (403, 404) else 503)
    return Response(
        answer.content,
        mimetype=answer.headers["Content-Type"],
        headers={
            "Content-Disposition": answer.headers["Content-Disposition"],
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
