"""The provider's pages: their requests and listings, adding and changing a listing."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, get_flashed_messages, redirect, request, url_for

from services.gateway.web.blueprint import bp
from services.gateway.web.core import (
    ServiceError,
    call,
    call_raw,
    current_user,
    error_list,
    login_required,
    parse_pounds,
    render,
)


@bp.get("/provider")
@login_required("provider")
def provider_home():  # type: ignore[no-untyped-def]
    provider_id = current_user().identity.provider_id  # type: ignore[union-attr]
    answer = call("budget", "GET", "/provider/requests", params={"per_page": 100})
    listings = call(
        "directory", "GET", "/listings/", params={"provider_id": provider_id, "per_page": 100}
    )
    checks = call("directory", "GET", f"/providers/{provider_id}/due-diligence")
    return render(
        "web/provider.html",
        title="Your organisation",
        active="provider",
        requests=answer.get("items", []),
        listings=listings.get("items", []),
        provider=checks,
        messages=get_flashed_messages(),
    )


LISTING_UNITS = (
    ("per_session", "A session"),
    ("per_month", "A month"),
    ("per_year", "A year"),
    ("one_off", "One-off"),
)


def listing_text_errors(name: str, description: str) -> dict[str, str]:
    """GOV.UK messages for a listing's name and description, within the directory's limits."""
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Enter the name of the activity"
    elif len(name) > 200:
        errors["name"] = "The name must be 200 characters or fewer"
    if len(description) > 5000:
        errors["description"] = "The description must be 5000 characters or fewer"
    return errors


@bp.route("/provider/listings/new", methods=["GET", "POST"])
@login_required("provider")
def new_listing():  # type: ignore[no-untyped-def]
    terms = call("directory", "GET", "/taxonomy/", identity=False)
    allowed = {t["slug"]: t["name"] for t in terms if not t.get("excluded")}
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        name = form.get("name", "").strip()
        description = form.get("description", "").strip()
        errors.update(listing_text_errors(name, description))
        category = form.get("category", "")
        if category not in allowed:
            errors["category"] = "Choose what kind of activity it is"
        town = form.get("town", "").strip()
        if not town:
            errors["town"] = "Enter the town where it happens"
        elif len(town) > 80:
            errors["town"] = "The town must be 80 characters or fewer"
        postcode = form.get("postcode", "").strip().upper()
        if len(postcode) > 10:
            errors["postcode"] = "Enter a real postcode, like TN34 1AA"
        price = parse_pounds(form.get("price", "")) if form.get("price", "").strip() else None
        if form.get("price", "").strip() and price is None:
            errors["price"] = "Enter the price in pounds and pence, like 8.50, or 0 if it is free"
        unit = form.get("unit", "")
        if price is not None and unit not in dict(LISTING_UNITS):
            errors["unit"] = "Choose what the price pays for"
        if not errors:
            body: dict[str, Any] = {
                "organization_id": current_user().identity.provider_id,  # type: ignore[union-attr]
                "name": name,
                "description": description,
                "categories": [category],
                "location": {
                    "address_1": form.get("address_1", "").strip()[:200],
                    "town": town,
                    "postcode": postcode or None,
                },
            }
            if price is not None:
                body["cost_options"] = [{"amount_pence": price, "unit": unit}]
            answer = call_raw("directory", "POST", "/listings/", json=body)
            if answer.status_code == 201:
                flash(f"Listing added: {name}.")
                return redirect(url_for("web.provider_home"))
            if answer.status_code != 422:
                raise ServiceError(answer.status_code, {"title": "The listing was not saved"})
            problem = ServiceError(422, answer.json())
            known = {"name", "description", "town", "postcode", "price", "unit"}
            for field, messages in problem.field_errors.items():
                target = {"amount_pence": "price", "categories": "category"}.get(field, field)
                errors[target if target in known | {"category"} else "name"] = messages[0]
            if not errors:
                errors["name"] = problem.detail
    return render(
        "web/new_listing.html",
        title="Add a listing",
        active="provider",
        terms=sorted(allowed.items(), key=lambda kv: kv[1]),
        units=LISTING_UNITS,
        form=form,
        errors=error_list(errors),
        field_errors=errors,
        back="/provider",
    ), (400 if errors else 200)


@bp.route("/provider/listings/<listing_id>", methods=["GET", "POST"])
@login_required("provider")
def edit_listing(listing_id: str):  # type: ignore[no-untyped-def]
    try:
        uuid.UUID(listing_id)
    except ValueError:
        abort(404)
    response = call_raw("directory", "GET", f"/listings/{listing_id}")
    if response.status_code != 200:
        abort(404)
    found, etag = response.json(), response.headers.get("ETag", "")
    if found.get("organization_id") != current_user().identity.provider_id:  # type: ignore[union-attr]
        abort(403)
    errors: dict[str, str] = {}
    form = request.form
    conflict = False
    if request.method == "POST":
        body: dict[str, Any] = {
            "name": form.get("name", "").strip(),
            "description": form.get("description", "").strip(),
        }
        errors.update(listing_text_errors(body["name"], body["description"]))
        for field, label in (("minimum_age", "Youngest age"), ("maximum_age", "Oldest age")):
            raw = form.get(field, "").strip()
            if not raw:
                body[field] = None
            elif not raw.isdigit() or int(raw) > 120:
                errors[field] = f"{label} must be a whole number between 0 and 120"
            else:
                body[field] = int(raw)
        if not errors:
            answer = call_raw(
                "directory",
                "PATCH",
                f"/listings/{listing_id}",
                json=body,
                headers={"If-Match": form.get("etag", "")},
            )
            if answer.status_code == 200:
                flash(f"Saved: {body['name']}.")
                return redirect(url_for("web.provider_home"))
            if answer.status_code in (412, 428):
                conflict = True
                errors["name"] = (
                    "Someone else changed this listing after you opened it. "
                    "Their version is shown below: make your change again."
                )
                form = {}  # type: ignore[assignment]
            elif answer.status_code == 422:
                problem = ServiceError(422, answer.json())
                for name, messages in problem.field_errors.items():
                    errors[name if name in body else "name"] = messages[0]
            else:
                raise ServiceError(answer.status_code, {"title": "The listing was not saved"})
    return render(
        "web/edit_listing.html",
        title="Change a listing",
        active="provider",
        listing=found,
        etag=etag,
        form=form,
        conflict=conflict,
        errors=error_list(errors),
        field_errors=errors,
        back="/provider",
    ), (409 if conflict else 400 if errors else 200)
