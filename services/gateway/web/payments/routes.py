"""Finance's payments: payment runs (create, download, mark paid), and single requests to order and pay."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, flash, get_flashed_messages, redirect, request, url_for

from services.gateway.web.blueprint import bp
from services.gateway.web.core import ServiceError, call, call_raw, login_required, render
from services.gateway.web.forms import read, submit
from services.gateway.web.lookups import requests_in
from services.gateway.web.payments.forms import CancelRunForm, NewRunForm, PayForm
from services.gateway.web.segments import seg
from shared import clock


@bp.get("/payments")
@login_required("finance", "admin")
def payments():
    return render(
        "web/payments.html",
        title="Payments",
        active="payments",
        to_order=requests_in("approved"),
        to_pay=requests_in("ordered"),
        runs=call("budget", "GET", "/payment-runs", params={"per_page": 10})["items"],
        messages=get_flashed_messages(),
    )


@bp.post("/payments/<request_id>/order")
@login_required("finance", "admin")
def order(request_id: str):
    reference = request.form.get("reference", "").strip()[:100] or None
    done = call(
        "budget",
        "POST",
        f"/requests/{seg(request_id)}/order",
        json={"reference": reference},
        headers={"Idempotency-Key": request.form.get("idempotency_key") or uuid.uuid4().hex},
    )
    flash(f"Ordered: {done['item']}.")
    return redirect(url_for("web.payments"))


@bp.route("/payments/<request_id>/pay", methods=["GET", "POST"])
@login_required("finance", "admin")
def pay(request_id: str):
    req = call("budget", "GET", f"/requests/{seg(request_id)}")
    form = read(PayForm(), request.form, when=request.method == "POST")
    if request.method == "POST":
        body: dict[str, Any] = {"reference": form.data.get("reference")}
        if form.data.get("amount") is not None:
            body["amount_pence"] = form.data["amount"]
        if form.data.get("reason"):
            body["reason"] = form.data["reason"]
        paid = submit(
            form,
            "budget",
            "POST",
            f"/requests/{seg(request_id)}/pay",
            json=body,
            idempotent=True,
        )
        if paid is not None:
            flash(f"Payment recorded: {req['item']}.")
            return redirect(url_for("web.payments"))
    return render(
        "web/pay.html",
        title="Record a payment",
        active="payments",
        req=req,
        **form.context(),
        back="/payments",
    ), form.status


@bp.get("/payments/run.csv")
@login_required("finance", "admin")
def payment_run():
    answer = call_raw("budget", "GET", "/payments/run.csv")
    if answer.status_code != 200:
        raise ServiceError(answer.status_code, {"title": "The payment run is not available"})
    return Response(
        answer.content,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="payment-run.csv"'},
    )


@bp.route("/payments/runs/new", methods=["GET", "POST"])
@login_required("finance", "admin")
def new_run():
    today = clock.today()
    sent = (
        request.form
        if request.method == "POST"
        else {
            "due-day": str(today.day),
            "due-month": str(today.month),
            "due-year": str(today.year),
        }
    )
    form = read(NewRunForm(), sent, when=request.method == "POST")
    schemes = call("budget", "GET", "/schemes")
    if request.method == "POST" and form.data.get("scheme_id") not in (
        None,
        *(s["id"] for s in schemes),
    ):
        form.refuse("scheme_id", "Choose a scheme from the list")
    if request.method == "POST":
        body = {"due_by": form.data["due"].isoformat()} if form.data.get("due") else {}
        if form.data.get("scheme_id"):
            body["scheme_id"] = form.data["scheme_id"]
        run = submit(form, "budget", "POST", "/payment-runs", json=body, idempotent=True)
        if run is not None:
            flash(
                f"Payment run {run['reference']} created: {run['request_count']} payments for "
                f"requests and {run['instalment_count']} package instalments."
            )
            return redirect(url_for("web.payment_run_page", run_id=run["id"]))
    return render(
        "web/payment_run_new.html",
        title="Create a payment run",
        active="payments",
        schemes=schemes,
        **form.context(),
        back="/payments",
    ), form.status


@bp.get("/payments/runs/<run_id>")
@login_required("finance", "admin")
def payment_run_page(run_id: str):
    return _run_page(
        call("budget", "GET", f"/payment-runs/{seg(run_id)}"), read(CancelRunForm(), {}, when=False)
    )


def _run_page(run: dict[str, Any], cancel_form: Any) -> tuple[str, int]:
    return render(
        "web/payment_run.html",
        title=f"Payment run {run['reference']}",
        active="payments",
        run=run,
        messages=get_flashed_messages(),
        **cancel_form.context(),
        back="/payments",
    ), cancel_form.status


@bp.post("/payments/runs/<run_id>/paid")
@login_required("finance", "admin")
def mark_run_paid(run_id: str):
    run = call(
        "budget",
        "POST",
        f"/payment-runs/{seg(run_id)}/paid",
        json={},
        headers={"Idempotency-Key": request.form.get("idempotency_key") or uuid.uuid4().hex},
    )
    flash(
        f"Payment run {run['reference']} marked as paid: {run['request_count']} payments for "
        f"requests and {run['instalment_count']} package instalments."
    )
    return redirect(url_for("web.payment_run_page", run_id=run_id))


@bp.post("/payments/runs/<run_id>/cancel")
@login_required("finance", "admin")
def cancel_run(run_id: str):
    form = read(CancelRunForm(), request.form)
    run = submit(
        form,
        "budget",
        "POST",
        f"/payment-runs/{seg(run_id)}/cancel",
        json={"reason": form.data.get("reason")},
        idempotent=True,
    )
    if run is None:
        return _run_page(call("budget", "GET", f"/payment-runs/{seg(run_id)}"), form)
    flash(f"Payment run {run['reference']} cancelled.")
    return redirect(url_for("web.payment_run_page", run_id=run_id))


@bp.get("/payments/runs/<run_id>/payees.csv")
@login_required("finance", "admin")
def payment_run_payees(run_id: str):
    return _csv(f"/payment-runs/{seg(run_id)}.csv")


@bp.get("/payments/runs/<run_id>/lines.csv")
@login_required("finance", "admin")
def payment_run_lines(run_id: str):
    return _csv(f"/payment-runs/{seg(run_id)}/lines.csv")


def _csv(path: str) -> Response:
    answer = call_raw("budget", "GET", path)
    if answer.status_code != 200:
        raise ServiceError(answer.status_code, {"title": "The payment run file is not available"})
    return Response(
        answer.content,
        mimetype="text/csv",
        headers={"Content-Disposition": answer.headers.get("Content-Disposition", "attachment")},
    )
