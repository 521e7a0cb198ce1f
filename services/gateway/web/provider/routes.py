"""The provider's pages: their requests and listings, adding and changing a listing."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, get_flashed_messages, redirect, request, url_for

from services.gateway.web.blueprint import bp
from services.gateway.web.core import (
    call,
    call_raw,
    current_user,
    login_required,
    render,
)
from services.gateway.web.forms import Form, choices, read, submit
from services.gateway.web.provider.forms import (
    LISTING_UNITS,
    STALE_LISTING,
    EditListingForm,
    NewListingForm,
)
from services.gateway.web.segments import seg
from services.gateway.web.uploads import download, receive


@bp.get("/provider")
@login_required("provider")
def provider_home():
    provider_id = current_user().identity.provider_id
    answer = call("budget", "GET", "/provider/requests", params={"per_page": 100})
    listings = call(
        "directory", "GET", "/listings/", params={"provider_id": provider_id, "per_page": 100}
    )
    checks = call("directory", "GET", f"/providers/{seg(provider_id)}/due-diligence")
    return render(
        "web/provider.html",
        title="Your organisation",
        active="provider",
        requests=answer.get("items", []),
        listings=listings.get("items", []),
        provider=checks,
        messages=get_flashed_messages(),
    )


@bp.route("/provider/listings/new", methods=["GET", "POST"])
@login_required("provider")
def new_listing():
    terms = call("directory", "GET", "/taxonomy/", identity=False)
    allowed = {t["slug"]: t["name"] for t in terms if not t.get("excluded")}
    form = read(
        choices(NewListingForm(), "category", allowed), request.form, when=request.method == "POST"
    )
    if request.method == "POST":
        values = form.data
        body: dict[str, Any] = {
            "organization_id": current_user().identity.provider_id,
            "name": values.get("name"),
            "description": values.get("description", ""),
            "categories": [values.get("category")],
            "location": {
                "address_1": values.get("address_1", ""),
                "town": values.get("town"),
                "postcode": (values.get("postcode") or "").upper() or None,
            },
        }
        if values.get("price") is not None:
            body["cost_options"] = [{"amount_pence": values["price"], "unit": values.get("unit")}]
        if submit(form, "directory", "POST", "/listings/", json=body, refusals=(422,)) is not None:
            flash(f"Listing added: {values['name']}.")
            return redirect(url_for("web.provider_home"))
    return render(
        "web/new_listing.html",
        title="Add a listing",
        active="provider",
        terms=sorted(allowed.items(), key=lambda kv: kv[1]),
        units=LISTING_UNITS,
        **form.context(),
        back="/provider",
    ), form.status


@bp.route("/provider/listings/<listing_id>", methods=["GET", "POST"])
@login_required("provider")
def edit_listing(listing_id: str):
    try:
        uuid.UUID(listing_id)
    except ValueError:
        abort(404)
    response = call_raw("directory", "GET", f"/listings/{seg(listing_id)}")
    if response.status_code != 200:
        abort(404)
    found, etag = response.json(), response.headers.get("ETag", "")
    if found.get("organization_id") != current_user().identity.provider_id:  # type: ignore[union-attr]
        abort(403)
    form = read(EditListingForm(), request.form, when=request.method == "POST")
    conflict = False
    if request.method == "POST":
        body = {k: form.data.get(k) for k in ("name", "description", "minimum_age", "maximum_age")}
        saved = submit(
            form,
            "directory",
            "PATCH",
            f"/listings/{seg(listing_id)}",
            json=body,
            headers={"If-Match": form.data.get("etag", "")},
            refusals=(412, 422, 428),
        )
        if saved is not None:
            flash(f"Saved: {body['name']}.")
            return redirect(url_for("web.provider_home"))
        if form.refusal is not None and form.refusal.status in (412, 428):
            conflict = True  # show their version, to make the change again on top of it
            form = Form(form.schema, {}, errors={"name": STALE_LISTING})
    return render(
        "web/edit_listing.html",
        title="Change a listing",
        active="provider",
        listing=found,
        # the version the provider opened, until they are shown someone else's
        etag=etag if conflict or request.method == "GET" else form.values.get("etag", etag),
        **form.context(),
        conflict=conflict,
        back="/provider",
    ), (409 if conflict else form.status)


@bp.route("/provider/requests/<request_id>/documents", methods=["GET", "POST"])
@login_required("provider")
def provider_request_documents(request_id: str):
    """A request's invoices and receipts: the provider uploads one from a phone."""
    mine = call("budget", "GET", "/provider/requests", params={"per_page": 100})["items"]
    req = next((r for r in mine if r["id"] == request_id), None)
    if req is None:
        abort(404)
    got = receive(
        request_id,
        default_kind="invoice",
        kinds=("invoice", "receipt"),
        kind_error="Select whether it is an invoice or a receipt",
        file_error="Select an invoice or receipt",
    )
    if got.stored is not None:
        flash(f"Uploaded: {got.stored['filename']}.")
        return redirect(url_for("web.provider_request_documents", request_id=request_id))
    documents = call("budget", "GET", f"/requests/{seg(request_id)}/documents")
    return render(
        "web/provider_documents.html",
        title="Invoices and receipts",
        active="provider",
        req=req,
        documents=documents,
        kind=got.kind,
        field_errors=got.errors,
        errors=[{"text": t, "href": "#" + f} for f, t in got.errors.items()],
        back="/provider",
    ), got.status


@bp.get("/provider/documents/<document_id>")
@login_required("provider")
def provider_document(document_id: str):
    return download(document_id)
