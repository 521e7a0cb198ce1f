"""Admins' pages for schemes: the list, setting up a scheme of any kind, changing its settings."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for

from services.gateway.web.blueprint import bp
from services.gateway.web.core import call, login_required, render
from services.gateway.web.forms import Form, read, submit
from services.gateway.web.schemes import forms
from services.gateway.web.schemes.forms import SchemeForm, settings_body
from services.gateway.web.segments import seg
from shared.concurrency import etag

STALE = (
    "Someone else changed this scheme while you were editing it. "
    "Check its settings below and make your change again."
)


def _options() -> dict[str, Any]:
    return {
        "kinds": forms.KINDS,
        "cap_bases": forms.CAP_BASES,
        "budget_types": forms.BUDGET_TYPES,
        "carry_rules": forms.CARRY_RULES,
        "eligibility_records": forms.ELIGIBILITY,
    }


@bp.get("/admin/schemes")
@login_required("admin")
def schemes():
    return render(
        "web/schemes.html",
        title="Schemes",
        active="admin",
        schemes=call("budget", "GET", "/schemes"),
        breadcrumbs=[{"text": "Administration", "href": "/admin"}],
        kinds=forms.KINDS,
    )


@bp.route("/admin/schemes/new", methods=["GET", "POST"])
@login_required("admin")
def new_scheme():
    form = read(SchemeForm(), request.form, when=request.method == "POST")
    if request.method == "POST":
        body = settings_body(form.data, new=True)
        made = submit(form, "budget", "POST", "/schemes", json=body)
        if made is not None:
            flash(f"Scheme set up: {made['name']}.")
            return redirect(url_for("web.scheme", scheme_id=made["id"]))
    return render(
        "web/scheme_form.html",
        title="Set up a scheme",
        active="admin",
        scheme=None,
        shown=forms.shown(request.form, None),
        **_options(),
        **form.context(),
        breadcrumbs=[
            {"text": "Administration", "href": "/admin"},
            {"text": "Schemes", "href": "/admin/schemes"},
        ],
    ), form.status


@bp.route("/admin/schemes/<scheme_id>", methods=["GET", "POST"])
@login_required("admin")
def scheme(scheme_id: str):
    current = call("budget", "GET", f"/schemes/{seg(scheme_id)}")
    form = read(SchemeForm(), request.form, when=request.method == "POST")
    if request.method == "POST":
        body = settings_body(form.data, new=False)
        if form.data.get("version") is None:
            form.refuse("name", STALE)
        seen = {"If-Match": etag(scheme_id, form.data.get("version") or 0)}
        path = f"/schemes/{seg(scheme_id)}"
        saved = submit(form, "budget", "PATCH", path, json=body, headers=seen, refusals=(412, 422))
        if saved is not None:
            flash("Scheme settings saved.")
            return redirect(url_for("web.scheme", scheme_id=scheme_id))
        if form.refusal is not None and form.refusal.status == 412:
            current = call("budget", "GET", f"/schemes/{seg(scheme_id)}")
            form = Form(form.schema, {}, errors={"name": STALE})
    return render(
        "web/scheme_form.html",
        title=f"Scheme: {current['name']}",
        active="admin",
        scheme=current,
        shown=forms.shown(form.values, current),
        **_options(),
        **form.context(),
        breadcrumbs=[
            {"text": "Administration", "href": "/admin"},
            {"text": "Schemes", "href": "/admin/schemes"},
        ],
    ), form.status
