"""The advisor funds an activity for a young person: choose who, then the goal and amount."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from flask import abort, flash, redirect, request, url_for

from services.gateway.web.blueprint import bp
from services.gateway.web.core import (
    ServiceError,
    call,
    current_user,
    login_required,
    money,
    render,
)
from services.gateway.web.forms import choices, read, submit
from services.gateway.web.lookups import latest_plan, my_people
from services.gateway.web.search.forms import DIRECTORY_AWAY, FundForm, MonthlyForm
from services.gateway.web.segments import seg
from shared.errors import DependencyTimeout, DependencyUnavailable


def _listing_from_args(values: Any) -> dict[str, Any]:
    listing_id = values.get("listing_id", "")
    try:
        uuid.UUID(listing_id)
    except ValueError:
        abort(404)
    price = values.get("price", "")
    cost_option_id = values.get("cost_option_id", "")
    try:
        cost_option_id = str(uuid.UUID(cost_option_id)) if cost_option_id else ""
    except ValueError:
        cost_option_id = ""
    search_id = values.get("search_id", "")
    try:
        search_id = str(uuid.UUID(search_id)) if search_id else ""
    except ValueError:
        search_id = ""
    return {
        "id": listing_id,
        "search_id": search_id,  # the search it was found by, for the search log
        "cost_option_id": cost_option_id,
        "name": values.get("name", "")[:200] or "This activity",
        "provider": values.get("provider", "")[:200],
        "price_pence": int(price) if price.isdigit() else None,
    }


def _listing_query(listing: dict[str, Any]) -> str:
    return urlencode(
        {
            "listing_id": listing["id"],
            "name": listing["name"],
            "provider": listing["provider"],
            "price": "" if listing["price_pence"] is None else listing["price_pence"],
            **({"cost_option_id": listing["cost_option_id"]} if listing["cost_option_id"] else {}),
            **({"search_id": listing["search_id"]} if listing["search_id"] else {}),
        }
    )


def _found_by_search(search_id: str) -> None:
    """Tell the search log a search led to a request (never at the cost of the request)."""
    if not search_id:
        return
    try:
        call("directory", "POST", f"/search/{seg(search_id)}/funded", expect=(204,))
    except (ServiceError, DependencyUnavailable, DependencyTimeout):
        pass  # an unknown search, or the directory away: the request stands all the same


@bp.get("/fund")
@login_required("advisor")
def fund_choose_person():
    listing = _listing_from_args(request.args)
    people = my_people(current_user())
    return render(
        "web/fund_person.html",
        title="Who is this for?",
        active="search",
        listing=listing,
        people=people,
        listing_query=_listing_query(listing),
        back=request.referrer if request.referrer and "/search" in request.referrer else "/search",
    )


@bp.route("/fund/<person_id>", methods=["GET", "POST"])
@login_required("advisor")
def fund_request(person_id: str):
    listing = _listing_from_args(request.values)
    person = call("budget", "GET", f"/people/{seg(person_id)}")
    plan = latest_plan(person_id)
    scheme = call("budget", "GET", f"/schemes/{seg(person['scheme_id'])}")
    schema = choices(FundForm(), "goal_id", (g["id"] for g in (plan or {}).get("goals", [])))
    form = read(schema, request.form, when=request.method == "POST")
    if request.method == "POST":
        option = {"cost_option_id": listing["cost_option_id"]} if listing["cost_option_id"] else {}
        body = {
            "person_id": person_id,
            "goal_id": form.data.get("goal_id"),
            "listing_id": listing["id"],
            **option,
            "amount_pence": form.data.get("amount"),
            "submit": True,
        }
        created = submit(
            form,
            "budget",
            "POST",
            "/requests",
            json=body,
            idempotent=True,
            refusals=(404, 409, 422, 503, 504),
        )
        if form.refusal is not None and form.refusal.status in (404, 503, 504):
            form.errors = {"listing": DIRECTORY_AWAY}
        elif created is not None:
            _found_by_search(listing["search_id"])
            amount = money(created["amount_pence"])
            if created.get("state") == "approved":
                flash(f"Approved: {amount} for {listing['name']}.")
            else:
                flash(f"Request sent to the budget holder: {amount} for {listing['name']}.")
            return redirect(url_for("web.person", person_id=person_id))
    return render(
        "web/fund_request.html",
        title="Fund this activity",
        active="search",
        listing=listing,
        person=person,
        plan=plan,
        scheme=scheme,
        **form.context(),
        listing_query=_listing_query(listing),
        back=url_for("web.fund_choose_person") + "?" + _listing_query(listing),
    ), form.status


@bp.route("/fund/<person_id>/monthly", methods=["GET", "POST"])
@login_required("advisor")
def fund_monthly(person_id: str):
    """Fund an activity monthly: an ongoing package whose whole term is held from the budget."""
    listing = _listing_from_args(request.values)
    person = call("budget", "GET", f"/people/{seg(person_id)}")
    plan = latest_plan(person_id)
    schema = choices(MonthlyForm(), "goal_id", (g["id"] for g in (plan or {}).get("goals", [])))
    form = read(schema, request.form, when=request.method == "POST")
    if request.method == "POST":
        option = {"cost_option_id": listing["cost_option_id"]} if listing["cost_option_id"] else {}
        body = {
            "person_id": person_id,
            "goal_id": form.data.get("goal_id"),
            "listing_id": listing["id"],
            **option,
            "frequency": "monthly",
            "instalment_pence": form.data.get("amount"),
            "instalments": form.data.get("months"),
        }
        created = submit(
            form,
            "budget",
            "POST",
            "/packages",
            json=body,
            idempotent=True,
            refusals=(404, 409, 422, 503, 504),
        )
        if form.refusal is not None and form.refusal.status in (404, 503, 504):
            form.errors = {"listing": DIRECTORY_AWAY}
        elif created is not None:
            _found_by_search(listing["search_id"])
            flash(
                f"Funded monthly: {created['instalments']} payments of "
                f"{money(created['instalment_pence'])} for {listing['name']}; "
                f"{money(created['amount_pence'])} is set aside."
            )
            return redirect(url_for("web.person", person_id=person_id))
    return render(
        "web/fund_monthly.html",
        title="Fund this activity monthly",
        active="search",
        listing=listing,
        person=person,
        plan=plan,
        **form.context(),
        listing_query=_listing_query(listing),
        back=url_for("web.fund_request", person_id=person_id) + "?" + _listing_query(listing),
    ), form.status
