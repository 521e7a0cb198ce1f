"""The advisor's caseload: young people, their plan, requests and check-ins; enrolling someone."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import flash, get_flashed_messages, redirect, request, url_for

from services.gateway.web.blueprint import bp
from services.gateway.web.core import (
    ServiceError,
    call,
    current_user,
    error_list,
    login_required,
    render,
)
from services.gateway.web.lookups import latest_plan, my_people
from shared.errors import DomainError


@bp.get("/caseload")
@login_required("advisor", "admin")
def caseload():  # type: ignore[no-untyped-def]
    people = my_people(current_user())
    due: dict[str, int] = {}
    try:
        open_checkins = call(
            "outcomes",
            "GET",
            "/checkins",
            params={"status": "open", "due_by": date.today().isoformat(), "per_page": 100},
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
def person(person_id: str):  # type: ignore[no-untyped-def]
    young = call("budget", "GET", f"/people/{person_id}")
    plan = latest_plan(person_id)
    reqs = call("budget", "GET", "/requests", params={"person_id": person_id, "per_page": 100})
    try:
        checkins = call("outcomes", "GET", f"/people/{person_id}/checkins").get("checkins", [])
    except ServiceError:
        checkins = []
    goals = {g["id"]: g["text"] for g in (plan or {}).get("goals", [])}
    return render(
        "web/person.html",
        title=f"Young person {young['case_reference']}",
        active="caseload",
        person=young,
        plan=plan,
        goals=goals,
        requests=reqs.get("items", []),
        checkins=checkins,
        messages=get_flashed_messages(),
        breadcrumbs=[{"text": "Young people", "href": "/caseload"}],
    )


@bp.post("/caseload/<person_id>/checkins/<checkin_id>/link")
@login_required("advisor")
def checkin_link(person_id: str, checkin_id: str):  # type: ignore[no-untyped-def]
    """A new feedback link for the young person: shown once here, only its hash is kept."""
    young = call("budget", "GET", f"/people/{person_id}")
    issued = call("outcomes", "POST", f"/checkins/{checkin_id}/link")
    return render(
        "web/checkin_link.html",
        title="Check-in link",
        active="caseload",
        person=young,
        link=request.host_url.rstrip("/") + issued["page_path"],
        expires_at=issued.get("expires_at"),
        back=url_for("web.person", person_id=person_id),
    )


@bp.post("/caseload/<person_id>/requests/<request_id>/submit")
@login_required("advisor")
def resubmit(person_id: str, request_id: str):  # type: ignore[no-untyped-def]
    """Send a draft, or a request the budget holder asked about, to the budget holder again."""
    try:
        done = call(
            "budget",
            "POST",
            f"/requests/{request_id}/submit",
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
def enrol():  # type: ignore[no-untyped-def]
    schemes = call("budget", "GET", "/schemes")
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        reference = form.get("case_reference", "").strip()
        if not reference:
            errors["case_reference"] = "Enter the case reference"
        elif len(reference) > 60:
            errors["case_reference"] = "Case reference must be 60 characters or fewer"
        birth = _date_from(form, "birth")
        if birth is None:
            errors["birth-day"] = "Enter a real date of birth, for example 14 3 2007"
        scheme_id = form.get("scheme_id", "")
        if scheme_id not in {s["id"] for s in schemes}:
            errors["scheme_id"] = "Choose the scheme"
        if not errors:
            body = {
                "scheme_id": scheme_id,
                "case_reference": reference,
                "birth_date": birth.isoformat(),  # type: ignore[union-attr]
                "consent_evaluation": form.get("consent_evaluation") == "yes",
                "consent_case_study": form.get("consent_case_study") == "yes",
            }
            try:
                created = call(
                    "budget",
                    "POST",
                    "/people",
                    json=body,
                    headers={"Idempotency-Key": form.get("idempotency_key") or uuid.uuid4().hex},
                )
            except ServiceError as err:
                if err.status not in (409, 422):
                    raise
                for name, messages in err.field_errors.items():
                    key = "birth-day" if name == "birth_date" else name
                    errors[key] = messages[0]
                if not errors:
                    errors["case_reference"] = err.detail
            else:
                flash("Young person enrolled. Now agree their plan.")
                return redirect(url_for("web.plan", person_id=created["id"]))
    return render(
        "web/enrol.html",
        title="Enrol a young person",
        active="caseload",
        schemes=schemes,
        form=form,
        errors=error_list(errors),
        field_errors=errors,
        idempotency_key=form.get("idempotency_key") or uuid.uuid4().hex,
        back="/caseload",
    ), (400 if errors else 200)


def _date_from(form: Any, prefix: str) -> date | None:
    try:
        return date(
            int(form.get(f"{prefix}-year", "")),
            int(form.get(f"{prefix}-month", "")),
            int(form.get(f"{prefix}-day", "")),
        )
    except ValueError:
        return None


@bp.route("/caseload/<person_id>/plan", methods=["GET", "POST"])
@login_required("advisor")
def plan(person_id: str):  # type: ignore[no-untyped-def]
    young = call("budget", "GET", f"/people/{person_id}")
    current = latest_plan(person_id)
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        goals = [form.get(f"goal-{i}", "").strip() for i in range(1, 4)]
        goals = [g for g in goals if g]
        if not goals:
            errors["goal-1"] = "Enter at least one goal"
        if any(len(g) > 2000 for g in goals):
            errors["goal-1"] = "Each goal must be 2000 characters or fewer"
        for field, label in (("needs", "What they need"), ("ideas", "Ideas you talked about")):
            if len(form.get(field, "")) > 5000:
                errors[field] = f"{label} must be 5000 characters or fewer"
        if not errors:
            body: dict[str, Any] = {
                "needs": form.get("needs", ""),
                "ideas": form.get("ideas", ""),
                "goals": [{"text": g} for g in goals],
            }
            try:
                if current is None:
                    call("budget", "POST", f"/people/{person_id}/plans", json=body)
                else:
                    body["version"] = current["version"]
                    body["goals"] = [
                        {**({"id": old["id"]} if old else {}), "text": g}
                        for g, old in zip(
                            goals, [*current["goals"], *[None] * len(goals)], strict=False
                        )
                    ]
                    call("budget", "PATCH", f"/plans/{current['id']}", json=body)
            except ServiceError as err:
                if err.status == 412:
                    errors["goal-1"] = (
                        "Someone else changed this plan while you were editing it. "
                        "Check the plan below and make your change again."
                    )
                    current = latest_plan(person_id)
                elif err.status == 422:
                    errors["goal-1"] = err.detail
                else:
                    raise
            else:
                flash("Plan saved.")
                return redirect(url_for("web.person", person_id=person_id))
    return render(
        "web/plan.html",
        title="Plan and goals",
        active="caseload",
        person=young,
        plan=current,
        form=form,
        errors=error_list(errors),
        field_errors=errors,
        messages=get_flashed_messages(),
        back=url_for("web.person", person_id=person_id),
    ), (400 if errors else 200)
