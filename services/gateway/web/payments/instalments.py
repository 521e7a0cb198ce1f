"""Finance pays ongoing packages instalment by instalment: the ones falling due, and recording one."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import flash, get_flashed_messages, redirect, request, url_for

from services.gateway.web.blueprint import bp
from services.gateway.web.core import call, login_required, money, render
from services.gateway.web.forms import read, submit
from services.gateway.web.payments.forms import InstalmentForm
from services.gateway.web.segments import seg
from shared.clock import today

AHEAD_DAYS = 7  # instalments falling due within a week can be paid now


def instalments_due(on: date) -> list[dict[str, Any]]:
    """Each active package's unpaid instalments due by a week from `on`, soonest first."""
    due: list[dict[str, Any]] = []
    by = (on + timedelta(days=AHEAD_DAYS)).isoformat()
    for page in range(1, 11):
        found = call(
            "budget", "GET", "/packages", params={"state": "active", "page": page, "per_page": 100}
        )
        for package in found.get("items", []):
            for instalment in package["schedule"]:
                if instalment["state"] == "due" and str(instalment["due_on"]) <= by:
                    due.append({"package": package, **instalment})
        if page >= found.get("pages", 1):
            break
    due.sort(key=lambda i: (str(i["due_on"]), i["package"]["payee"], i["number"]))
    return due


@bp.get("/payments/instalments")
@login_required("finance", "admin")
def instalments():
    return render(
        "web/instalments.html",
        title="Monthly and weekly payments due",
        active="payments",
        due=instalments_due(today()),
        messages=get_flashed_messages(),
        back="/payments",
    )


@bp.route("/payments/packages/<package_id>/instalments/<int:number>", methods=["GET", "POST"])
@login_required("finance", "admin")
def pay_instalment(package_id: str, number: int):
    package = call("budget", "GET", f"/packages/{seg(package_id)}")
    instalment = next((i for i in package["schedule"] if i["number"] == number), None)
    if instalment is None:
        return redirect(url_for("web.instalments"))
    form = read(InstalmentForm(), request.form, when=request.method == "POST")
    if request.method == "POST":
        paid = submit(
            form,
            "budget",
            "POST",
            f"/packages/{seg(package_id)}/instalments/{seg(number)}/pay",
            json={"reference": form.data.get("reference")},
            idempotent=True,
        )
        if paid is not None:
            flash(
                f"Payment recorded: {package['item']}, instalment {number} of "
                f"{package['instalments']} ({money(instalment['amount_pence'])})."
            )
            return redirect(url_for("web.instalments"))
    return render(
        "web/pay_instalment.html",
        title="Record an instalment's payment",
        active="payments",
        package=package,
        instalment=instalment,
        **form.context(),
        back="/payments/instalments",
    ), form.status
