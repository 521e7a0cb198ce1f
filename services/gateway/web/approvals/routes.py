"""The budget holder's approvals: requests waiting for a decision, and deciding one."""

from __future__ import annotations

from flask import flash, get_flashed_messages, redirect, request, url_for

from services.gateway.web.approvals.forms import DECISIONS, DONE, DecisionForm
from services.gateway.web.blueprint import bp
from services.gateway.web.core import (
    ServiceError,
    call,
    days_since,
    login_required,
    money,
    render,
)
from services.gateway.web.forms import choices, read, submit
from services.gateway.web.lookups import requests_in
from services.gateway.web.segments import seg


@bp.get("/approvals")
@login_required("budget_holder", "admin")
def approvals():
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
def decide(request_id: str):
    req = call("budget", "GET", f"/requests/{seg(request_id)}")
    offered = [action for action in req["actions"] if action in DONE]
    form = read(
        choices(DecisionForm(), "decision", offered), request.form, when=request.method == "POST"
    )
    if request.method == "POST":
        decision = form.data.get("decision", "")
        # a decision the form refused is never sent (nor put into a path): one it offered is
        done = submit(
            form,
            "budget",
            "POST",
            f"/requests/{seg(request_id)}/{seg(decision)}" if form.valid else "",
            json={"reason": form.data.get("reason", "")} if decision != "approve" else None,
            idempotent=True,
        )
        if done is not None:
            flash(f"{DONE[decision]}: {req['item']} ({money(req['amount_pence'])}).")
            return redirect(url_for("web.approvals"))
    person = None
    try:
        person = call("budget", "GET", f"/people/{seg(req['person_id'])}")
    except ServiceError:
        person = None
    return render(
        "web/decide.html",
        title="Decide on a request",
        active="approvals",
        req=req,
        person=person,
        **form.context(),
        decisions=DECISIONS,
        back="/approvals",
    ), form.status
