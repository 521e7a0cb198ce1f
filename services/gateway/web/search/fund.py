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
    error_list,
    login_required,
    money,
    parse_pounds,
    render,
)
from services.gateway.web.lookups import latest_plan, my_people


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
    return {
        "id": listing_id,
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
        }
    )


@bp.get("/fund")
@login_required("advisor")
def fund_choose_person():  # type: ignore[no-untyped-def]
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
def fund_request(person_id: str):  # type: ignore[no-untyped-def]
    listing = _listing_from_args(request.values)
    person = call("budget", "GET", f"/people/{person_id}")
    plan = latest_plan(person_id)
    scheme = call("budget", "GET", f"/schemes/{person['scheme_id']}")
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        goal_id = form.get("goal_id", "")
        goals = {g["id"] for g in (plan or {}).get("goals", [])}
        if goal_id not in goals:
            errors["goal_id"] = "Choose the plan goal this activity helps with"
        amount = parse_pounds(form.get("amount", ""))
        remaining = person["budget"]["remaining_pence"]
        if amount is None or amount <= 0:
            errors["amount"] = "Enter the amount in pounds and pence, like 12.50"
        elif amount > remaining:
            errors["amount"] = (
                f"The amount must be {money(remaining)} or less: that is what is left"
            )
        if not errors:
            body = {
                "person_id": person_id,
                "goal_id": goal_id,
                "listing_id": listing["id"],
                **(
                    {"cost_option_id": listing["cost_option_id"]}
                    if listing["cost_option_id"]
                    else {}
                ),
                "amount_pence": amount,
                "submit": True,
            }
            try:
                created = call(
                    "budget",
                    "POST",
                    "/requests",
                    json=body,
                    headers={"Idempotency-Key": form.get("idempotency_key") or uuid.uuid4().hex},
                )
            except ServiceError as err:
                if err.status in (409, 422):
                    field = "goal_id" if "goal_id" in err.field_errors else "amount"
                    errors[field] = err.detail
                elif err.status in (404, 503, 504):
                    errors["listing"] = (
                        "We could not check this activity with the directory just now. "
                        "Try again in a few minutes."
                    )
                else:
                    raise
            else:
                state = created.get("state")
                if state == "approved":
                    flash(f"Approved: {money(created['amount_pence'])} for {listing['name']}.")
                else:
                    flash(
                        f"Request sent to the budget holder: {money(created['amount_pence'])} "
                        f"for {listing['name']}."
                    )
                return redirect(url_for("web.person", person_id=person_id))
    return render(
        "web/fund_request.html",
        title="Fund this activity",
        active="search",
        listing=listing,
        person=person,
        plan=plan,
        scheme=scheme,
        form=form,
        errors=error_list(errors),
        field_errors=errors,
        idempotency_key=form.get("idempotency_key") or uuid.uuid4().hex,
        listing_query=_listing_query(listing),
        back=url_for("web.fund_choose_person") + "?" + _listing_query(listing),
    ), (400 if errors else 200)
