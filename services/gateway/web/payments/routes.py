"""Finance's payments: approved requests to order and pay, and the payment run."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, flash, get_flashed_messages, redirect, request, url_for

from services.gateway.web.blueprint import bp
from services.gateway.web.core import (
    ServiceError,
    call,
    call_raw,
    error_list,
    login_required,
    parse_pounds,
    render,
)
from services.gateway.web.lookups import requests_in


@bp.get("/payments")
@login_required("finance", "admin")
def payments():  # type: ignore[no-untyped-def]
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
def order(request_id: str):  # type: ignore[no-untyped-def]
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
def pay(request_id: str):  # type: ignore[no-untyped-def]
    req = call("budget", "GET", f"/requests/{request_id}")
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        reference = form.get("reference", "").strip()
        if not reference:
            errors["reference"] = "Enter the payment reference from the finance system"
        elif len(reference) > 100:
            errors["reference"] = "The payment reference must be 100 characters or fewer"
        amount = parse_pounds(form.get("amount", "")) if form.get("amount") else None
        if form.get("amount") and (amount is None or amount <= 0):
            errors["amount"] = "Enter the amount paid in pounds and pence, like 45.00"
        reason = form.get("reason", "").strip()
        if amount is not None and amount < req["amount_pence"] and not reason:
            errors["reason"] = "Enter why less than the approved amount was paid"
        if not errors:
            body: dict[str, Any] = {"reference": reference}
            if amount is not None:
                body["amount_pence"] = amount
            if reason:
                body["reason"] = reason[:2000]
            try:
                call(
                    "budget",
                    "POST",
                    f"/requests/{request_id}/pay",
                    json=body,
                    headers={"Idempotency-Key": form.get("idempotency_key") or uuid.uuid4().hex},
                )
            except ServiceError as err:
                if err.status not in (409, 422):
                    raise
                for name, messages in err.field_errors.items():
                    errors["amount" if name == "amount_pence" else name] = messages[0]
                if not errors:
                    errors["reference"] = err.detail
            else:
                flash(f"Payment recorded: {req['item']}.")
                return redirect(url_for("web.payments"))
    return render(
        "web/pay.html",
        title="Record a payment",
        active="payments",
        req=req,
        form=form,
        errors=error_list(errors),
        field_errors=errors,
        idempotency_key=form.get("idempotency_key") or uuid.uuid4().hex,
        back="/payments",
    ), (400 if errors else 200)


@bp.get("/payments/run.csv")
@login_required("finance", "admin")
def payment_run():  # type: ignore[no-untyped-def]
    answer = call_raw("budget", "GET", "/payments/run.csv")
    if answer.status_code != 200:
        raise ServiceError(answer.status_code, {"title": "The payment run is not available"})
    return Response(
        answer.content,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="payment-run.csv"'},
    )
