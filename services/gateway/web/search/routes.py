"""The advisor's search: find an activity, see a listing, keep a shortlist."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import abort, flash, redirect, request, session, url_for

from services.gateway.security import safe_next
from services.gateway.web.blueprint import bp
from services.gateway.web.core import (
    ServiceError,
    call,
    current_user,
    error_list,
    login_required,
    render,
)
from services.gateway.web.search.understood import removable_filters, searching_for

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PRICE_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "Any price"),
    ("free", "Free only"),
    ("500", "Up to £5"),
)
PRICE_CHOICES += (("1000", "Up to £10"), ("2000", "Up to £20"), ("5000", "Up to £50"))
RADIUS_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "Any distance"),
    ("3.2", "Within 2 miles"),
    ("8", "Within 5 miles"),
)
RADIUS_CHOICES += (("16", "Within 10 miles"), ("40", "Within 25 miles"))
WELCOMES = {
    "care_experienced": "Care-experienced welcome",
    "first_session_free": "First session free",
    "bring_a_friend": "Bring a friend",
}
ACCESS = (("wheelchair_accessible", "Wheelchair accessible"),)
PER_PAGE = 10


def _search_args(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The page's filters as /search parameters, and errors for any the user got wrong."""
    args: dict[str, Any] = {"per_page": PER_PAGE}
    errors: dict[str, str] = {}
    q = form.get("q", "").strip()
    if len(q) > 200:
        errors["q"] = "Search words must be 200 characters or fewer"
    elif q:
        args["q"] = q
    near = form.get("near", "").strip()
    if near:
        args["near"] = near[:100]
        radius = form.get("radius", "")
        if radius in dict(RADIUS_CHOICES) and radius:
            args["radius_km"] = radius
        args["sort"] = form.get("sort") if form.get("sort") in ("relevance", "distance") else None
    price = form.get("price", "")
    if price == "free":
        args["free"] = "true"
    elif price in dict(PRICE_CHOICES) and price:
        args["max_price"] = price
    age = form.get("age", "").strip()
    if age:
        if not age.isdigit() or not 0 < int(age) < 120:
            errors["age"] = "Age must be a whole number, like 17"
        else:
            args["age"] = age
    day = form.get("day", "")
    if day in DAYS:
        args["day"] = day
    categories = [c for c in form.getlist("category") if c][:20]
    if categories:
        args["category"] = categories
    access = [a for a in form.getlist("accessibility") if a in dict(ACCESS)]
    if access:
        args["accessibility"] = access
    if form.get("funding_ready"):
        args["funding_ready"] = "true"
    page = form.get("page", "1")
    args["page"] = int(page) if page.isdigit() and 0 < int(page) < 1000 else 1
    return {k: v for k, v in args.items() if v is not None}, errors


@bp.get("/search")
def search():
    form = request.args.copy()
    user = current_user()
    person = None
    if user is not None and user.role == "advisor":
        person = searching_for(form.get("for"), date.today())
        if person and person["age"] is not None and not form.get("age"):
            form["age"] = str(person["age"])  # the young person's age pre-fills the filter
    args, errors = _search_args(form)
    searched = any(k in request.args for k in ("q", "near", "category", "price", "day", "age"))
    result = None
    if searched and not errors:
        try:
            result = call("directory", "GET", "/search", params=args, identity=False)
        except ServiceError as err:
            if err.status != 422:
                raise
            names = {"near": "near", "radius_km": "radius", "age": "age", "q": "q"}
            for name, messages in err.field_errors.items():
                errors[names.get(name, "q")] = messages[0] if messages else err.detail
            if not errors:
                errors["q"] = err.detail
    pages = []
    if result and result.get("total_pages", 0) > 1:
        base = request.args.to_dict(flat=False)
        for n in range(1, min(result["total_pages"], 20) + 1):
            base["page"] = [str(n)]
            pages.append(
                {
                    "number": n,
                    "href": "/search?" + urlencode(base, doseq=True),
                    "current": n == result["page"],
                }
            )
    return render(
        "web/search.html",
        title="Find an activity",
        active="search",
        form=form,
        person=person,
        removable=removable_filters(form, result),
        result=result,
        searched=searched,
        errors=error_list(errors),
        field_errors=errors,
        pages=pages,
        days=DAYS,
        price_choices=PRICE_CHOICES,
        radius_choices=RADIUS_CHOICES,
        access_choices=ACCESS,
        welcomes=WELCOMES,
        selected_categories=request.args.getlist("category"),
    )


# --- a listing ------------------------------------------------------------------------------

UNITS = {
    "per_session": "a session",
    "per_month": "a month",
    "per_term": "a term",
    "per_course": "a course",
    "per_year": "a year",
    "one_off": "one-off",
}


@bp.get("/listings/<listing_id>")
def listing(listing_id: str):
    try:
        uuid.UUID(listing_id)
    except ValueError:
        abort(404)
    found = call("directory", "GET", f"/listings/{listing_id}", identity=False)
    fund_links = []
    for option in found.get("cost_options") or []:
        query = urlencode(
            {
                "listing_id": found["id"],
                "cost_option_id": option["id"],
                "name": found["name"],
                "provider": found.get("organization_name") or "",
                "price": option["amount_pence"],
            }
        )
        fund_links.append({**option, "href": "/fund?" + query})
    return render(
        "web/listing.html",
        title=found["name"],
        active="search",
        listing=found,
        options=fund_links,
        units=UNITS,
        welcomes=WELCOMES,
        back=request.referrer if request.referrer and "/search" in request.referrer else "/search",
    )


# --- advisor: a shortlist to go through with the young person (kept in the session) -----------

MAX_SHORTLIST = 20


@bp.get("/shortlist")
@login_required("advisor")
def shortlist():
    return render(
        "web/shortlist.html",
        title="Shortlist",
        active="search",
        items=session.get("shortlist", []),
        back="/search",
    )


@bp.post("/shortlist")
@login_required("advisor")
def shortlist_change():
    items = [i for i in session.get("shortlist", []) if isinstance(i, dict)]
    listing_id = request.form.get("listing_id", "")
    try:
        uuid.UUID(listing_id)
    except ValueError:
        abort(400)
    items = [i for i in items if i.get("id") != listing_id]
    if request.form.get("action") != "remove":
        items.append({"id": listing_id, "name": request.form.get("name", "")[:200] or "Activity"})
        flash(f"Added to your shortlist: {items[-1]['name']}.")
    else:
        flash("Removed from your shortlist.")
    session["shortlist"] = items[-MAX_SHORTLIST:]
    back = safe_next(request.form.get("back"))
    return redirect(back if back != "/" else url_for("web.shortlist"))
