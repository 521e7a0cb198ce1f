"""The advisor's search: find an activity, see a listing, keep a shortlist."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from flask import abort, flash, redirect, request, session, url_for

from services.gateway.security import safe_next
from services.gateway.web.blueprint import bp
from services.gateway.web.core import call, current_user, login_required, render
from services.gateway.web.forms import read, submit
from services.gateway.web.search.forms import SearchForm
from services.gateway.web.search.understood import removable_filters, searching_for
from services.gateway.web.segments import seg
from shared import clock

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


def _search_args(words: dict[str, Any], form: Any) -> dict[str, Any]:
    """The page's filters as the directory's /search parameters (choices it did not offer are
    left out); `words` are the search form's values."""
    # the page shows category counts only: the directory counts no other facet for it
    args: dict[str, Any] = {
        "per_page": PER_PAGE,
        "facets": ["category"],
        **{k: v for k, v in words.items() if v},
    }
    if words.get("near"):
        radius = form.get("radius", "")
        if radius in dict(RADIUS_CHOICES) and radius:
            args["radius_km"] = radius
        if form.get("sort") in ("relevance", "distance"):
            args["sort"] = form.get("sort")
    price = form.get("price", "")
    if price == "free":
        args["free"] = "true"
    elif price in dict(PRICE_CHOICES) and price:
        args["max_price"] = price
    day = form.get("day", "")
    if day in DAYS:
        args["day"] = day
    categories = [c for c in form.getlist("category") if c][:20]
    if categories:
        args["category"] = categories
    access = [a for a in form.getlist("accessibility") if a in dict(ACCESS)]
    if access:
        args["accessibility"] = access
    welcomes = [w for w in form.getlist("welcome") if w in WELCOMES]
    if welcomes:
        args["welcome"] = welcomes
    if form.get("funding_ready"):
        args["funding_ready"] = "true"
    page = form.get("page", "1")
    args["page"] = int(page) if page.isdigit() and 0 < int(page) < 1000 else 1
    return args


@bp.get("/search")
def search():
    values = request.args.copy()
    user = current_user()
    person = None
    if user is not None and user.role == "advisor":
        person = searching_for(values.get("for"), clock.today())
        if person and person["age"] is not None and not values.get("age"):
            values["age"] = str(person["age"])  # the young person's age pre-fills the filter
    searched = any(
        k in request.args for k in ("q", "near", "category", "price", "day", "age", "welcome")
    )
    form = read(SearchForm(), values, when=searched)
    result = None
    if searched:
        args = _search_args(form.data, values)
        # an advisor searches as themselves: only they may later mark the search as funded
        as_advisor = user is not None and user.role == "advisor"
        result = submit(
            form, "directory", "GET", "/search", params=args, identity=as_advisor, refusals=(422,)
        )
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
        person=person,
        removable=removable_filters(values, result),
        result=result,
        searched=searched,
        **form.context(),
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
    found = call("directory", "GET", f"/listings/{seg(listing_id)}", identity=False)
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
