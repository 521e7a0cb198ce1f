"""Invoices, receipts and evidence of purchase on the pages: sending a file to the budget service,
turning its refusals into the GOV.UK file-upload messages, and passing a download through."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, abort

from services.gateway.web.core import ServiceError, call_raw

FILE_REFUSALS = {
    413: "The selected file must be smaller than 5MB",
    415: "The selected file must be a PDF, JPG or PNG",
}


def send_file(request_id: str, upload: Any, kind: str) -> tuple[dict[str, Any] | None, str | None]:
    """(the stored document, None), or (None, the message for the file field)."""
    answer = call_raw(
        "budget",
        "POST",
        f"/requests/{request_id}/documents",
        files={"file": (upload.filename, upload.stream.read(), upload.mimetype)},
        data={"kind": kind},
    )
    if answer.status_code == 201:
        return answer.json(), None
    if answer.status_code not in FILE_REFUSALS:
        raise ServiceError(answer.status_code, answer.json())
    return None, FILE_REFUSALS[answer.status_code]


def download(document_id: str) -> Response:
    """The budget's answer as it is: an attachment of the stored type, never a page."""
    try:
        uuid.UUID(document_id)
    except ValueError:
        abort(404)
    answer = call_raw("budget", "GET", f"/documents/{document_id}")
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
