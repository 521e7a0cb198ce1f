"""Finance's payments: approved requests to order and pay, and the payment run."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, flash, get_flashed_messages, redirect, request, url_for

from services.gateway.web.blueprint import bp
from services.gateway.web.core import ServiceError, call, call_raw, login_required, render
from services.gateway.web.forms import read, submit
from services.gateway.web.lookups import requests_in
from services.gateway.web.payments.forms import PayForm


@bp.get("/payments")
@login_required("finance", "admin")
def payments():
    return render(
        "web/payments.html",
        title="Payments",
        active="payments",
        to_order=requests_in("approved"),
        to_pay=requests_in("ordered"),
        messages=get_flashed_messages(),
    )


@bp.post("/payments/<request_id>/order")
@login_required("finance", "admin")
def order(request_id: str):
    reference = request.form.get("reference", "").strip()[:100] or None
    done = call(
        "budget",
        "POST",
        f"/requests/{request_id}/order",
        json={"reference": reference},
        headers={"Idempotency-Key": request.form.get("idempotency_key") or uuid.uuid4().hex},
    )
    flash(f"Ordered: {done['item']}.")
    return redirect(url_for("web.payments"))


@bp.route("/payments/<request_id>/pay", methods=["GET", "POST"])
@login_required("finance", "admin")
def pay(request_id: str):
    req = call("budget", "GET", f"/requests/{request_id}")
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
            f"/requests/{request_id}/pay",
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
