"""The budget holder's approvals: requests waiting for a decision, and deciding one."""

from __future__ import annotations

import uuid

from flask import flash, get_flashed_messages, redirect, request, url_for

from services.gateway.web.blueprint import bp
from services.gateway.web.core import (
    ServiceError,
    call,
    days_since,
    error_list,
    login_required,
    money,
    render,
)
from services.gateway.web.lookups import requests_in


@bp.get("/approvals")
@login_required("budget_holder", "admin")
def approvals():  # type: ignore[no-untyped-def]
    waiting = requests_in("submitted")
    waiting.sort(key=lambda r: r.get("submitted_at") or r.get("created_at") or "")
    return render(
        "web/approvals.html",
        title="Requests to approve",
        active="approvals",
        requests=waiting,
        messages=get_flashed_messages(),
        days_since=days_since,
    )


@bp.route("/approvals/<request_id>", methods=["GET", "POST"])
@login_required("budget_holder", "admin")
def decide(request_id: str):  # type: ignore[no-untyped-def]
    req = call("budget", "GET", f"/requests/{request_id}")
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        decision = form.get("decision", "")
        reason = form.get("reason", "").strip()
        if decision not in ("approve", "reject", "request-info"):
            errors["decision"] = "Choose whether to approve, reject or ask for more information"
        elif decision != "approve" and not reason:
            errors["reason"] = (
                "Enter the reason: the advisor and young person will see it"
                if decision == "reject"
                else "Enter what information you need"
            )
        elif len(reason) > 2000:
            errors["reason"] = "The reason must be 2000 characters or fewer"
        if not errors:
            try:
                call(
                    "budget",
                    "POST",
                    f"/requests/{request_id}/{decision}",
                    json={"reason": reason} if decision != "approve" else None,
                    headers={"Idempotency-Key": form.get("idempotency_key") or uuid.uuid4().hex},
                )
            except ServiceError as err:
                if err.status not in (409, 422):
                    raise
                errors["decision"] = err.detail
            else:
                done = {
                    "approve": "Approved",
                    "reject": "Rejected",
                    "request-info": "Sent back for more information",
                }
                flash(f"{done[decision]}: {req['item']} ({money(req['amount_pence'])}).")
                return redirect(url_for("web.approvals"))
    person = None
    try:
        person = call("budget", "GET", f"/people/{req['person_id']}")
    except ServiceError:
        person = None
    return render(
        "web/decide.html",
        title="Decide on a request",
        active="approvals",
        req=req,
        person=person,
        form=form,
        errors=error_list(errors),
        field_errors=errors,
        idempotency_key=form.get("idempotency_key") or uuid.uuid4().hex,
        back="/approvals",
    ), (400 if errors else 200)
