"""Start, sign in, sign out: the pages everyone sees before their own."""

from __future__ import annotations

from flask import redirect, request

from services.gateway.registry import gateway_services
from services.gateway.security import safe_next
from services.gateway.web.blueprint import bp
from services.gateway.web.core import (
    ROLE_NAMES,
    current_user,
    error_list,
    render,
    sign_in,
)
from shared.demo import DEMO_PROVIDER_ID, DEMO_USERS
from shared.identity import Identity

HOME_LINKS = {
    "advisor": [
        ("/search", "Find an activity", "Search activities with a young person and fund one."),
        ("/caseload", "Young people", "Budgets, plans, requests and check-ins for your caseload."),
    ],
    "budget_holder": [
        ("/approvals", "Requests to approve", "Requests waiting for a decision, oldest first."),
        ("/dashboard", "Programme dashboard", "Spend, reach, speed and outcomes."),
    ],
    "finance": [
        ("/payments", "Payments", "Approved requests to order and pay, and the payment run."),
        ("/dashboard", "Programme dashboard", "Spend, reach, speed and outcomes."),
    ],
    "commissioner": [
        (
            "/reports",
            "Report for a period",
            "Reach, spend and run-out, speed, reviews, cost per improvement.",
        ),
    ],
    "carer": [
        (
            "/children",
            "Your children",
            "Each child's budget, plan, what was bought and their check-ins.",
        ),
    ],
    "provider": [("/provider", "Your organisation", "Requests and payments for your activities.")],
    "admin": [
        ("/dashboard", "Programme dashboard", "Spend, reach, speed and outcomes."),
        ("/approvals", "Requests to approve", "Requests waiting for a decision."),
        ("/search", "Find an activity", "Search the directory."),
    ],
}


@bp.get("/")
def home():
    user = current_user()
    links = HOME_LINKS.get(user.role, []) if user else []
    return render("web/home.html", title="Wellbeing budgets", links=links)


@bp.route("/sign-in", methods=["GET", "POST"], endpoint="sign_in")
def sign_in_page():
    next_url = safe_next(request.values.get("next"))
    settings = gateway_services().security
    if settings.oidc or not settings.demo:
        return render("web/sign_in_oidc.html", title="Sign in", next_url=next_url)
    errors = {}
    if request.method == "POST":
        chosen = request.form.get("user", "")
        match = next(((s, r, lbl) for s, r, lbl in DEMO_USERS if s == chosen), None)
        if match is None:
            errors["user"] = "Choose who you are"
        else:
            sub, role, label = match
            identity = Identity(
                sub=sub, role=role, provider_id=DEMO_PROVIDER_ID if role == "provider" else None
            )
            sign_in(identity, label)
            return redirect(next_url)
    users = [
        {"value": s, "text": lbl, "hint": {"text": ROLE_NAMES.get(r, r)}}
        for s, r, lbl in DEMO_USERS
    ]
    return render(
        "web/sign_in.html",
        title="Who are you?",
        users=users,
        next_url=next_url,
        errors=error_list(errors),
        field_errors=errors,
    ), (400 if errors else 200)


@bp.post("/sign-out")
def sign_out_page():
    from services.gateway.signin import end_session_redirect

    return end_session_redirect()
