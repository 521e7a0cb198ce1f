"""The programme lead's admin pages: pots and funders, who holds each scheme's budget, providers'
due diligence, case studies to approve, and a young person's advisor and consent.

Every page calls the service that owns the record as the signed-in admin; the services decide.
"""

from __future__ import annotations

from typing import Any

from flask import flash, get_flashed_messages, redirect, request, url_for

from services.gateway.web.admin.forms import (
    CHECK_KINDS,
    FUNDING_STREAMS,
    AssignmentForm,
    CheckForm,
    ConsentForm,
    PotForm,
    ReassignForm,
)
from services.gateway.web.blueprint import bp
from services.gateway.web.core import call, login_required, money, render
from services.gateway.web.forms import choices, read, submit
from services.gateway.web.segments import seg

ADMIN = "admin"


def _schemes() -> list[dict[str, Any]]:
    return list(call("budget", "GET", "/schemes"))


@bp.get("/admin")
@login_required(ADMIN)
def admin_home():
    return render("web/admin/home.html", title="Administration", active="admin")


@bp.route("/admin/pots", methods=["GET", "POST"])
@login_required(ADMIN)
def admin_pots():
    schemes = _schemes()
    form = read(
        choices(PotForm(), "scheme_id", (s["id"] for s in schemes)),
        request.form,
        when=request.method == "POST",
    )
    if request.method == "POST":
        made = submit(
            form,
            "budget",
            "POST",
            "/pots",
            json={
                "scheme_id": form.data.get("scheme_id"),
                "name": form.data.get("name"),
                "funder": form.data.get("funder"),
                "funding_stream": form.data.get("funding_stream"),
                "amount_pence": form.data.get("amount"),
                "starts_on": form.data["starts"].isoformat() if form.valid else None,
            },
            idempotent=True,
        )
        if made is not None:
            flash(
                f"Pot added: {made['name']}, {money(made['amount_pence'])} from {made['funder']}."
            )
            return redirect(url_for("web.admin_pots"))
    names = {s["id"]: s["name"] for s in schemes}
    return render(
        "web/admin/pots.html",
        title="Funding pots",
        active="admin",
        pots=call("budget", "GET", "/pots"),
        schemes=schemes,
        scheme_names=names,
        streams=FUNDING_STREAMS,
        messages=get_flashed_messages(),
        **form.context(),
        back="/admin",
    ), form.status


@bp.route("/admin/assignments", methods=["GET", "POST"])
@login_required(ADMIN)
def admin_assignments():
    schemes = _schemes()
    form = read(
        choices(AssignmentForm(), "scheme_id", (s["id"] for s in schemes)),
        request.form,
        when=request.method == "POST",
    )
    if request.method == "POST":
        made = submit(
            form,
            "budget",
            "POST",
            "/assignments",
            json={"scheme_id": form.data.get("scheme_id"), "sub": form.data.get("sub")},
        )
        if made is not None:
            flash(f"{made['sub']} now holds the budget of this scheme.")
            return redirect(url_for("web.admin_assignments"))
    return render(
        "web/admin/assignments.html",
        title="Budget holders' schemes",
        active="admin",
        assignments=call("budget", "GET", "/assignments"),
        schemes=schemes,
        scheme_names={s["id"]: s["name"] for s in schemes},
        messages=get_flashed_messages(),
        **form.context(),
        back="/admin",
    ), form.status


@bp.post("/admin/assignments/<assignment_id>/remove")
@login_required(ADMIN)
def admin_unassign(assignment_id: str):
    call("budget", "DELETE", f"/assignments/{seg(assignment_id)}", expect=(204,))
    flash("The budget holder no longer holds that scheme's budget.")
    return redirect(url_for("web.admin_assignments"))


@bp.get("/admin/providers")
@login_required(ADMIN)
def admin_providers():
    providers: list[dict[str, Any]] = []
    for page in range(1, 11):
        found = call("directory", "GET", "/providers/", params={"page": page, "per_page": 100})
        providers.extend(found)
        if len(found) < 100:
            break
    providers.sort(key=lambda p: (p.get("due_diligence_state") == "verified", p["name"]))
    return render(
        "web/admin/providers.html",
        title="Providers' due diligence",
        active="admin",
        providers=providers,
        back="/admin",
    )


@bp.route("/admin/providers/<provider_id>", methods=["GET", "POST"])
@login_required(ADMIN)
def admin_provider(provider_id: str):
    form = read(CheckForm(), request.form, when=request.method == "POST")
    if request.method == "POST":
        done = submit(
            form,
            "directory",
            "POST",
            f"/providers/{seg(provider_id)}/due-diligence",
            json={
                "kind": form.data.get("kind"),
                "expires_on": form.data["expires"].isoformat() if form.valid else None,
                "reference": form.data.get("reference", ""),
                "notes": form.data.get("notes", ""),
            },
        )
        if done is not None:
            flash(f"{CHECK_KINDS[form.data['kind']]} recorded for {done['name']}.")
            return redirect(url_for("web.admin_provider", provider_id=provider_id))
    provider = call("directory", "GET", f"/providers/{seg(provider_id)}/due-diligence")
    return render(
        "web/admin/provider.html",
        title=f"{provider['name']}: due diligence",
        active="admin",
        provider=provider,
        kinds=CHECK_KINDS,
        messages=get_flashed_messages(),
        **form.context(),
        back="/admin/providers",
    ), form.status


@bp.get("/admin/case-studies")
@login_required(ADMIN)
def admin_case_studies():
    return render(
        "web/admin/case_studies.html",
        title="Case studies to approve",
        active="admin",
        studies=call("outcomes", "GET", "/case-studies", params={"status": "draft"}),
        messages=get_flashed_messages(),
        back="/admin",
    )


@bp.post("/admin/case-studies/<study_id>/approve")
@login_required(ADMIN)
def admin_approve_case_study(study_id: str):
    approved = call("outcomes", "POST", f"/case-studies/{seg(study_id)}/approve")
    flash(f"Approved for reports: {approved['title']}.")
    return redirect(url_for("web.admin_case_studies"))


@bp.route("/admin/people/<person_id>", methods=["GET", "POST"])
@login_required(ADMIN)
def admin_person(person_id: str):
    person = call("budget", "GET", f"/people/{seg(person_id)}")
    which = request.form.get("form") if request.method == "POST" else None
    reassign = read(ReassignForm(), request.form, when=which == "reassign")
    consent = read(ConsentForm(), request.form, when=which == "consent")
    if which == "reassign":
        done = submit(
            reassign,
            "budget",
            "POST",
            f"/people/{seg(person_id)}/reassign",
            json={"advisor_sub": reassign.data.get("advisor_sub")},
        )
        if done is not None:
            flash(f"{done['case_reference']} is now on {done['advisor_sub']}'s caseload.")
            return redirect(url_for("web.admin_person", person_id=person_id))
    elif which == "consent":
        done = submit(
            consent,
            "budget",
            "PUT",
            f"/people/{seg(person_id)}/consent",
            json={
                "consent_evaluation": consent.data.get("consent_evaluation") == "yes",
                "consent_case_study": consent.data.get("consent_case_study") == "yes",
            },
        )
        if done is not None:
            flash(f"Consent recorded for {done['case_reference']}.")
            return redirect(url_for("web.admin_person", person_id=person_id))
    shown = consent if which == "consent" else reassign
    return render(
        "web/admin/person.html",
        title=f"Advisor and consent for young person {person['case_reference']}",
        active="admin",
        person=person,
        **shown.context(),
        messages=get_flashed_messages(),
        back=url_for("web.person", person_id=person_id),
    ), max(reassign.status, consent.status)
