"""The advisor's evidence of purchase: a photo or PDF of what was bought, for a request of a young
person on their caseload (the budget service checks the caseload; a request of someone else's is
404 there and here)."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, url_for

from services.gateway.web.blueprint import bp
from services.gateway.web.core import call, login_required, render
from services.gateway.web.segments import seg
from services.gateway.web.uploads import download, receive

KINDS = ("evidence", "receipt")


def _uuid_or_404(*values: str) -> None:
    for value in values:
        try:
            uuid.UUID(value)
        except ValueError:
            abort(404)


@bp.route("/caseload/<person_id>/requests/<request_id>/documents", methods=["GET", "POST"])
@login_required("advisor")
def request_documents(person_id: str, request_id: str):
    _uuid_or_404(person_id, request_id)
    req = call("budget", "GET", f"/requests/{seg(request_id)}")
    if req.get("person_id") != person_id:
        abort(404)
    young = call("budget", "GET", f"/people/{seg(person_id)}")
    got = receive(
        request_id,
        default_kind="evidence",
        kinds=KINDS,
        kind_error="Select whether it is evidence of purchase or a receipt",
        file_error="Select a photo or PDF of the evidence",
    )
    if got.stored is not None:
        flash(f"Uploaded: {got.stored['filename']}.")
        return redirect(
            url_for("web.request_documents", person_id=person_id, request_id=request_id)
        )
    documents = call("budget", "GET", f"/requests/{seg(request_id)}/documents")
    return render(
        "web/caseload_documents.html",
        title="Evidence of purchase",
        active="caseload",
        person=young,
        req=req,
        documents=documents,
        kind=got.kind,
        field_errors=got.errors,
        errors=[{"text": t, "href": "#" + f} for f, t in got.errors.items()],
        back=url_for("web.person", person_id=person_id),
    ), got.status


@bp.get("/caseload/documents/<document_id>")
@login_required("advisor")
def caseload_document(document_id: str):
    return download(document_id)
