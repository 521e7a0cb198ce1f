"""Admins' page for a scheme's outcomes: the check-in questions its young people (or, for a young
child, a parent or carer) answer, and the age bands its reports use. The outcomes service owns
these settings and decides what fits; its refusals land on these fields."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for

from services.gateway.web.blueprint import bp
from services.gateway.web.core import call, login_required, render
from services.gateway.web.forms import Choice, Form, FormSchema, Text, WholeNumber, read, submit
from services.gateway.web.schemes.forms import listed
from services.gateway.web.segments import seg
from shared.concurrency import etag

NO_PROXY = "none"
STALE = (
    "Someone else changed these settings while you were editing them. "
    "Check them below and make your change again."
)
UNHEARD = (
    "The outcomes service has not heard of this scheme yet. Save the scheme's settings once, "
    "then try again."
)


class OutcomeSettingsForm(FormSchema):
    """Which sets the outcomes service offers is its to say; the page offers what it lists."""

    instrument_set = Choice(invalid="Choose the questions the young person answers")
    proxy_set = Choice(invalid="Choose whether a parent or carer answers for a young child")
    proxy_below_age = WholeNumber(invalid="Enter an age as a whole number, like 8")
    age_bands = Text(required="Enter the age bands, like 0-4, 5-10, 11-15")
    version = WholeNumber(invalid="Open the settings again and make your change")
    summary_field = "instrument_set"
    field_words = True

    def field_id(self, service_path: str, values: Any) -> str | None:
        """`age_bands.1` is the box the list was typed in."""
        return super().field_id(service_path.split(".")[0], values)


def settings_body(data: dict[str, Any]) -> dict[str, Any]:
    proxy = data.get("proxy_set")
    return {
        "instrument_set": data.get("instrument_set"),
        "proxy_set": None if proxy in (None, NO_PROXY) else proxy,
        "proxy_below_age": None if proxy in (None, NO_PROXY) else data.get("proxy_below_age"),
        "age_bands": listed(data.get("age_bands")),
    }


def shown(values: dict[str, Any], current: dict[str, Any]) -> dict[str, str]:
    """What each box shows: what was typed, else the current setting."""
    below = current["proxy_below_age"]
    now = {
        "instrument_set": current["instrument_set"],
        "proxy_set": current["proxy_set"] or NO_PROXY,
        "proxy_below_age": "" if below is None else str(below),
        "age_bands": ", ".join(current["age_bands"]),
        "version": str(current["version"]),
    }
    if values:
        now.update({k: str(values.get(k, "")) for k in now if k != "version"})
    return now


@bp.route("/admin/schemes/<scheme_id>/outcomes", methods=["GET", "POST"])
@login_required("admin")
def scheme_outcomes(scheme_id: str):
    scheme = call("budget", "GET", f"/schemes/{seg(scheme_id)}")
    path = f"/schemes/{seg(scheme_id)}/outcome-settings"
    current = call("outcomes", "GET", path)
    form = read(OutcomeSettingsForm(), request.form, when=request.method == "POST")
    if request.method == "POST":
        version = form.data.get("version")
        if version is None:
            form.refuse("instrument_set", STALE)
        seen = {"If-Match": etag(scheme_id, version or 0)}
        body = settings_body(form.data)
        saved = submit(
            form, "outcomes", "PUT", path, json=body, headers=seen, refusals=(404, 412, 422)
        )
        if saved is not None:
            flash("Check-in questions and age bands saved.")
            return redirect(url_for("web.scheme_outcomes", scheme_id=scheme_id))
        if form.refusal is not None and form.refusal.status in (404, 412):
            current = call("outcomes", "GET", path)
            words = UNHEARD if form.refusal.status == 404 else STALE
            form = Form(form.schema, {}, errors={"instrument_set": words})
    return render(
        "web/scheme_outcomes.html",
        title=f"Check-in questions and age bands: {scheme['name']}",
        active="admin",
        scheme=scheme,
        current=current,
        shown=shown(dict(form.values), current),
        own_sets=[c for c in current["choices"] if c["respondent"] == "self"],
        proxy_sets=[c for c in current["choices"] if c["respondent"] == "proxy"],
        no_proxy=NO_PROXY,
        **form.context(),
        breadcrumbs=[
            {"text": "Administration", "href": "/admin"},
            {"text": "Schemes", "href": "/admin/schemes"},
            {"text": scheme["name"], "href": f"/admin/schemes/{seg(scheme_id)}"},
        ],
    ), form.status
