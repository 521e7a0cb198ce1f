"""The advisor's caseload: young people, their plan, requests and check-ins; enrolling someone."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, get_flashed_messages, redirect, request, url_for

from services.gateway.security import public_url
from services.gateway.web.blueprint import bp
from services.gateway.web.caseload.forms import MHA_SECTIONS, EnrolForm, PlanForm, TransferForm
from services.gateway.web.core import (
    ServiceError,
    call,
    current_user,
    login_required,
    money,
    render,
)
from services.gateway.web.forms import Form, choices, read, submit
from services.gateway.web.lookups import latest_plan, my_people
from services.gateway.web.segments import seg
from shared import clock
from shared.concurrency import etag
from shared.errors import DomainError

MOVEMENT_NAMES = {
    "allocation": "Allocated from a pot",
    "hold": "Set aside for an approved request",
    "pay": "Paid",
    "release": "Set aside no longer needed",
    "recovery": "Recovered",
    "reduction": "Allocation reduced",
    "return": "Returned to the pot",
    "package_hold": "Set aside for a package",
    "package_pay": "Package payment",
    "package_release": "Package ended: the rest came back",
}


@bp.get("/caseload")
@login_required("advisor", "admin")
def caseload():
    people = my_people(current_user())
    due: dict[str, int] = {}
    try:
        open_checkins = call(
            "outcomes",
            "GET",
            "/checkins",
            params={"status": "open", "due_by": clock.today().isoformat(), "per_page": 100},
        )
        for item in open_checkins.get("items", []):
            due[item["person_id"]] = due.get(item["person_id"], 0) + 1
    except (ServiceError, DomainError):
        due = {}  # the caseload still shows budgets when outcomes is away
    return render(
        "web/caseload.html",
        title="Your young people",
        active="caseload",
        people=people,
        due=due,
        messages=get_flashed_messages(),
    )


@bp.get("/caseload/<person_id>")
@login_required("advisor", "admin")
def person(person_id: str):
    young = call("budget", "GET", f"/people/{seg(person_id)}")
    plan = latest_plan(person_id)
    reqs = call("budget", "GET", "/requests", params={"person_id": person_id, "per_page": 100})
    packages = call("budget", "GET", "/packages", params={"person_id": person_id, "per_page": 100})
    try:
        checkins = call("outcomes", "GET", f"/people/{seg(person_id)}/checkins").get("checkins", [])
    except ServiceError:
        checkins = []
    goals = {g["id"]: g["text"] for g in (plan or {}).get("goals", [])}
    schemes = {s["id"]: s["name"] for s in call("budget", "GET", "/schemes")}
    return render(
        "web/person.html",
        title=f"Young person {young['case_reference']}",
        active="caseload",
        person=young,
        scheme_names=schemes,
        moves=call("budget", "GET", f"/people/{seg(person_id)}/transfers"),
        history=call("budget", "GET", f"/people/{seg(person_id)}/ledger"),
        movement_names=MOVEMENT_NAMES,
        plan=plan,
        goals=goals,
        requests=reqs.get("items", []),
        packages=packages.get("items", []),
        checkins=checkins,
        messages=get_flashed_messages(),
        breadcrumbs=[{"text": "Young people", "href": "/caseload"}],
    )


@bp.post("/caseload/<person_id>/checkins/<checkin_id>/link")
@login_required("advisor")
def checkin_link(person_id: str, checkin_id: str):
    """A new feedback link for the young person: shown once here, only its hash is kept."""
    young = call("budget", "GET", f"/people/{seg(person_id)}")
    issued = call("outcomes", "POST", f"/checkins/{seg(checkin_id)}/link")
    checkin = call("outcomes", "GET", f"/checkins/{seg(checkin_id)}")
    return render(
        "web/checkin_link.html",
        title="Check-in link",
        active="caseload",
        person=young,
        proxy=checkin.get("respondent") == "proxy",
        link=public_url(issued["page_path"]),  # PUBLIC_BASE_URL, never the Host header
        expires_at=issued.get("expires_at"),
        back=url_for("web.person", person_id=person_id),
    )


@bp.post("/caseload/<person_id>/requests/<request_id>/submit")
@login_required("advisor")
def resubmit(person_id: str, request_id: str):
    """Send a draft, or a request the budget holder asked about, to the budget holder again."""
    try:
        done = call(
            "budget",
            "POST",
            f"/requests/{seg(request_id)}/submit",
            headers={"Idempotency-Key": request.form.get("idempotency_key") or uuid.uuid4().hex},
        )
    except ServiceError as err:
        if err.status not in (409, 422):
            raise
        flash(f"Not sent: {err.detail}")
    else:
        flash(f"Sent to the budget holder: {done['item']}.")
    return redirect(url_for("web.person", person_id=person_id))


@bp.route("/caseload/enrol", methods=["GET", "POST"])
@login_required("advisor")
def enrol():
    schemes = call("budget", "GET", "/schemes")
    schema = choices(EnrolForm(), "scheme_id", (s["id"] for s in schemes if s["active"]))
    form = read(schema, request.form, when=request.method == "POST")
    if request.method == "POST":
        created = submit(
            form,
            "budget",
            "POST",
            "/people",
            json={
                "scheme_id": form.data.get("scheme_id"),
                "case_reference": form.data.get("case_reference"),
                "birth_date": form.data["birth"].isoformat() if form.valid else None,
                "consent_evaluation": form.data.get("consent_evaluation") == "yes",
                "consent_case_study": form.data.get("consent_case_study") == "yes",
                "allocation_pence": form.data.get("allocation"),
                "eligibility": EnrolForm.record(form.data),
            },
            idempotent=True,
        )
        if created is not None:
            flash("Young person enrolled. Now agree their plan.")
            return redirect(url_for("web.plan", person_id=created["id"]))
    return render(
        "web/enrol.html",
        title="Enrol a young person",
        active="caseload",
        schemes=[s for s in schemes if s["active"]],
        sections=MHA_SECTIONS,
        **form.context(),
        back="/caseload",
    ), form.status


STALE_PLAN = (
    "Someone else changed this plan while you were editing it. "
    "Check the plan below and make your change again."
)


@bp.route("/caseload/<person_id>/plan", methods=["GET", "POST"])
@login_required("advisor")
def plan(person_id: str):
    young = call("budget", "GET", f"/people/{seg(person_id)}")
    current = latest_plan(person_id)
    form = read(PlanForm(), request.form, when=request.method == "POST")
    stale = False
    if request.method == "POST":
        goals = PlanForm.goals(form.data)
        body: dict[str, Any] = {
            "needs": form.data.get("needs", ""),
            "ideas": form.data.get("ideas", ""),
            "goals": [{"text": g} for g in goals],
        }
        saved = None
        if current is None:
            saved = submit(form, "budget", "POST", f"/people/{seg(person_id)}/plans", json=body)
        elif form.data.get("version") is None:
            stale = form.valid  # a change that names no version it was made to is not saved
        else:
            # The version the advisor saw, not the one there now: a change made meanwhile wins.
            seen = {"If-Match": etag(current["id"], form.data["version"])}
            body["goals"] = [
                {**({"id": old["id"]} if old else {}), "text": g}
                for g, old in zip(goals, [*current["goals"], *[None] * len(goals)], strict=False)
            ]
            path = f"/plans/{seg(current['id'])}"
            saved = submit(
                form, "budget", "PATCH", path, json=body, headers=seen, refusals=(412, 422)
            )
            stale = form.refusal is not None and form.refusal.status == 412
        if saved is not None:
            flash("Plan saved.")
            return redirect(url_for("web.person", person_id=person_id))
        if stale:  # show their plan, to make the change again on top of it
            current = latest_plan(person_id)
            form = Form(form.schema, {}, errors={"goal-1": STALE_PLAN})
    return render(
        "web/plan.html",
        title="Plan and goals",
        active="caseload",
        person=young,
        plan=current,
        **form.context(),
        messages=get_flashed_messages(),
        back=url_for("web.person", person_id=person_id),
    ), (409 if stale else form.status)


COUNCIL = "council"


@bp.route("/caseload/<person_id>/transfer", methods=["GET", "POST"])
@login_required("advisor")
def transfer(person_id: str):
    """Move a young person to another scheme (at 18, or into aftercare) or to another council:
    their plan and history go with them; the old scheme's rule says what happens to what is left."""
    young = call("budget", "GET", f"/people/{seg(person_id)}")
    others = [
        s
        for s in call("budget", "GET", "/schemes")
        if s["active"] and s["id"] != young["scheme_id"]
    ]
    live = call(
        "budget",
        "GET",
        "/packages",
        params={"person_id": person_id, "state": "active", "per_page": 100},
    ).get("items", [])
    current = call("budget", "GET", f"/schemes/{seg(young['scheme_id'])}")
    schema = choices(TransferForm(), "to_scheme_id", [*(s["id"] for s in others), COUNCIL])
    form = read(schema, request.form, when=request.method == "POST")
    if request.method == "POST":
        to = form.data.get("to_scheme_id")
        if not to:
            form.refuse("to_scheme_id", "Choose where they are moving to")
        elif to == COUNCIL and not form.data.get("to_council"):
            form.refuse("to_council", "Enter the council they are moving to")
        body = {
            "to_scheme_id": None if to == COUNCIL else to,
            "to_council": form.data.get("to_council") if to == COUNCIL else None,
            "reason": form.data.get("reason"),
            "allocation_pence": form.data.get("allocation"),
            "eligibility": TransferForm.record(form.data),
        }
        path = f"/people/{seg(person_id)}/transfer"
        moved = submit(form, "budget", "POST", path, json=body, idempotent=True)
        if moved is not None:
            flash(_moved_message(moved, others))
            return redirect(url_for("web.person", person_id=person_id))
    return render(
        "web/transfer.html",
        title="Move to another scheme",
        active="caseload",
        person=young,
        schemes=others,
        current=current,
        live_packages=live,
        on=clock.today(),
        sections=MHA_SECTIONS,
        **form.context(),
        back=url_for("web.person", person_id=person_id),
    ), form.status


def _moved_message(moved: dict[str, Any], schemes: list[dict[str, Any]]) -> str:
    names = {s["id"]: s["name"] for s in schemes}
    transfer = moved["transfer"]
    where = names.get(transfer["to_scheme_id"] or "", transfer["to_council"] or "another council")
    carried, returned = transfer["carried_pence"] / 100, transfer["returned_pence"] / 100
    ended = "".join(
        f" {p['item']} ended; {money(p['released_pence'])} it still held came back first."
        for p in moved.get("packages_ended") or []
    )
    return (
        f"Moved to {where}: £{carried:,.2f} carried over, £{returned:,.2f} returned to the old "
        f"pot.{ended}"
    )
