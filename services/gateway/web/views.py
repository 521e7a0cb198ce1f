"""The pages, by who uses them: sign-in, advisor, budget holder, finance, provider, young person, funder."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException

from services.gateway.security import safe_next
from services.gateway.web.core import (
    ROLE_NAMES,
    ServiceError,
    call,
    call_raw,
    check_csrf,
    current_user,
    days_since,
    error_list,
    login_required,
    money,
    parse_pounds,
    render,
    sign_in,
    sign_out,
)
from shared.demo import DEMO_PROVIDER_ID, DEMO_USERS
from shared.errors import DomainError
from shared.identity import Identity

bp = Blueprint("web", __name__)

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PRICE_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "Any price"),
    ("free", "Free only"),
    ("500", "Up to £5"),
)
PRICE_CHOICES += (("1000", "Up to £10"), ("2000", "Up to £20"), ("5000", "Up to £50"))
RADIUS_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "Any distance"),
    ("3.2", "Within 2 miles"),
    ("8", "Within 5 miles"),
)
RADIUS_CHOICES += (("16", "Within 10 miles"), ("40", "Within 25 miles"))
WELCOMES = {
    "care_experienced": "Care-experienced welcome",
    "first_session_free": "First session free",
    "bring_a_friend": "Bring a friend",
}
ACCESS = (("wheelchair_accessible", "Wheelchair accessible"),)
PER_PAGE = 10


@bp.before_request
def _protect() -> None:
    check_csrf()


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(HTTPException)
def _http_error(err: HTTPException):  # type: ignore[no-untyped-def]
    code = err.code or 500
    if code == 400 and err.description == "csrf":
        title = "Your form could not be sent"
        message = "This can happen if the page was open for a long time. Go back, refresh the page and try again."
    elif code == 403:
        title = "You cannot see this page"
        message = "Your role does not give you access to this page. Sign in as someone else if you need it."
    elif code == 404:
        title = "Page not found"
        message = "If you typed the web address, check it is correct."
    else:
        title = "Sorry, there is a problem"
        message = "Try again later."
    return render("web/error.html", title=title, message=message), code


@bp.errorhandler(DomainError)
def _dependency_error(err: DomainError):  # type: ignore[no-untyped-def]
    if err.status == 401:
        sign_out()
        return redirect(url_for("web.sign_in"))
    return render(
        "web/error.html",
        title="Sorry, there is a problem with the service",
        message="Part of the service is not answering right now. Try again in a few minutes.",
    ), (503 if err.status >= 500 else err.status)


@bp.errorhandler(ServiceError)
def _service_error(err: ServiceError):  # type: ignore[no-untyped-def]
    if err.status in (403, 404):
        return _http_error(abort_exception(err.status))
    return render(
        "web/error.html",
        title="Sorry, there is a problem with the service",
        message=err.detail if err.status < 500 else "Try again in a few minutes.",
    ), (err.status if err.status >= 400 else 500)


def abort_exception(code: int) -> HTTPException:
    try:
        abort(code)
    except HTTPException as err:
        return err
    raise AssertionError("unreachable")


# --- start, sign in, sign out ----------------------------------------------------------------

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
    "provider": [("/provider", "Your organisation", "Requests and payments for your activities.")],
    "admin": [
        ("/dashboard", "Programme dashboard", "Spend, reach, speed and outcomes."),
        ("/approvals", "Requests to approve", "Requests waiting for a decision."),
        ("/search", "Find an activity", "Search the directory."),
    ],
}


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    user = current_user()
    links = HOME_LINKS.get(user.role, []) if user else []
    return render("web/home.html", title="Wellbeing budgets", links=links)


def _safe_next(target: str | None) -> str:
    return safe_next(target)


@bp.route("/sign-in", methods=["GET", "POST"], endpoint="sign_in")
def sign_in_page():  # type: ignore[no-untyped-def]
    next_url = _safe_next(request.values.get("next"))
    settings = current_app.extensions["phb_gateway_settings"]
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
def sign_out_page():  # type: ignore[no-untyped-def]
    from services.gateway.signin import end_session_redirect

    return end_session_redirect()


# --- advisor: find an activity ---------------------------------------------------------------


def _search_args(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The page's filters as /search parameters, and errors for any the user got wrong."""
    args: dict[str, Any] = {"per_page": PER_PAGE}
    errors: dict[str, str] = {}
    q = form.get("q", "").strip()
    if len(q) > 200:
        errors["q"] = "Search words must be 200 characters or fewer"
    elif q:
        args["q"] = q
    near = form.get("near", "").strip()
    if near:
        args["near"] = near[:100]
        radius = form.get("radius", "")
        if radius in dict(RADIUS_CHOICES) and radius:
            args["radius_km"] = radius
        args["sort"] = form.get("sort") if form.get("sort") in ("relevance", "distance") else None
    price = form.get("price", "")
    if price == "free":
        args["free"] = "true"
    elif price in dict(PRICE_CHOICES) and price:
        args["max_price"] = price
    age = form.get("age", "").strip()
    if age:
        if not age.isdigit() or not 0 < int(age) < 120:
            errors["age"] = "Age must be a whole number, like 17"
        else:
            args["age"] = age
    day = form.get("day", "")
    if day in DAYS:
        args["day"] = day
    categories = [c for c in form.getlist("category") if c][:20]
    if categories:
        args["category"] = categories
    access = [a for a in form.getlist("accessibility") if a in dict(ACCESS)]
    if access:
        args["accessibility"] = access
    if form.get("funding_ready"):
        args["funding_ready"] = "true"
    page = form.get("page", "1")
    args["page"] = int(page) if page.isdigit() and 0 < int(page) < 1000 else 1
    return {k: v for k, v in args.items() if v is not None}, errors


@bp.get("/search")
def search():  # type: ignore[no-untyped-def]
    args, errors = _search_args(request.args)
    searched = any(k in request.args for k in ("q", "near", "category", "price", "day", "age"))
    result = None
    if searched and not errors:
        try:
            result = call("directory", "GET", "/search", params=args, identity=False)
        except ServiceError as err:
            if err.status != 422:
                raise
            names = {"near": "near", "radius_km": "radius", "age": "age", "q": "q"}
            for name, messages in err.field_errors.items():
                errors[names.get(name, "q")] = messages[0] if messages else err.detail
            if not errors:
                errors["q"] = err.detail
    pages = []
    if result and result.get("total_pages", 0) > 1:
        base = request.args.to_dict(flat=False)
        for n in range(1, min(result["total_pages"], 20) + 1):
            base["page"] = [str(n)]
            pages.append(
                {
                    "number": n,
                    "href": "/search?" + urlencode(base, doseq=True),
                    "current": n == result["page"],
                }
            )
    return render(
        "web/search.html",
        title="Find an activity",
        active="search",
        form=request.args,
        result=result,
        searched=searched,
        errors=error_list(errors),
        field_errors=errors,
        pages=pages,
        days=DAYS,
        price_choices=PRICE_CHOICES,
        radius_choices=RADIUS_CHOICES,
        access_choices=ACCESS,
        welcomes=WELCOMES,
        selected_categories=request.args.getlist("category"),
        today=date.today().isoformat(),
    )


# --- a listing ------------------------------------------------------------------------------

UNITS = {
    "per_session": "a session",
    "per_month": "a month",
    "per_term": "a term",
    "per_course": "a course",
    "per_year": "a year",
    "one_off": "one-off",
}


@bp.get("/listings/<listing_id>")
def listing(listing_id: str):  # type: ignore[no-untyped-def]
    try:
        uuid.UUID(listing_id)
    except ValueError:
        abort(404)
    found = call("directory", "GET", f"/listings/{listing_id}", identity=False)
    fund_links = []
    for option in found.get("cost_options") or []:
        query = urlencode(
            {
                "listing_id": found["id"],
                "cost_option_id": option["id"],
                "name": found["name"],
                "provider": found.get("organization_name") or "",
                "price": option["amount_pence"],
            }
        )
        fund_links.append({**option, "href": "/fund?" + query})
    return render(
        "web/listing.html",
        title=found["name"],
        active="search",
        listing=found,
        options=fund_links,
        units=UNITS,
        welcomes=WELCOMES,
        back=request.referrer if request.referrer and "/search" in request.referrer else "/search",
    )


# --- advisor: a shortlist to go through with the young person (kept in the session) -----------

MAX_SHORTLIST = 20


@bp.get("/shortlist")
@login_required("advisor")
def shortlist():  # type: ignore[no-untyped-def]
    return render(
        "web/shortlist.html",
        title="Shortlist",
        active="search",
        items=session.get("shortlist", []),
        back="/search",
    )


@bp.post("/shortlist")
@login_required("advisor")
def shortlist_change():  # type: ignore[no-untyped-def]
    items = [i for i in session.get("shortlist", []) if isinstance(i, dict)]
    listing_id = request.form.get("listing_id", "")
    try:
        uuid.UUID(listing_id)
    except ValueError:
        abort(400)
    items = [i for i in items if i.get("id") != listing_id]
    if request.form.get("action") != "remove":
        items.append({"id": listing_id, "name": request.form.get("name", "")[:200] or "Activity"})
        flash(f"Added to your shortlist: {items[-1]['name']}.")
    else:
        flash("Removed from your shortlist.")
    session["shortlist"] = items[-MAX_SHORTLIST:]
    back = _safe_next(request.form.get("back"))
    return redirect(back if back != "/" else url_for("web.shortlist"))


# --- advisor: fund an activity for a young person ---------------------------------------------


def _listing_from_args(values: Any) -> dict[str, Any]:
    listing_id = values.get("listing_id", "")
    try:
        uuid.UUID(listing_id)
    except ValueError:
        abort(404)
    price = values.get("price", "")
    cost_option_id = values.get("cost_option_id", "")
    try:
        cost_option_id = str(uuid.UUID(cost_option_id)) if cost_option_id else ""
    except ValueError:
        cost_option_id = ""
    return {
        "id": listing_id,
        "cost_option_id": cost_option_id,
        "name": values.get("name", "")[:200] or "This activity",
        "provider": values.get("provider", "")[:200],
        "price_pence": int(price) if price.isdigit() else None,
    }


def _listing_query(listing: dict[str, Any]) -> str:
    return urlencode(
        {
            "listing_id": listing["id"],
            "name": listing["name"],
            "provider": listing["provider"],
            "price": "" if listing["price_pence"] is None else listing["price_pence"],
            **({"cost_option_id": listing["cost_option_id"]} if listing["cost_option_id"] else {}),
        }
    )


def _my_people(user: Any) -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = []
    page = 1
    while page <= 10:
        params = {"page": page, "per_page": 100}
        if user.role == "advisor":
            params["advisor_sub"] = user.identity.sub
        answer = call("budget", "GET", "/people", params=params)
        people.extend(answer.get("items", []))
        if page >= answer.get("pages", 1):
            break
        page += 1
    return people


@bp.get("/fund")
@login_required("advisor")
def fund_choose_person():  # type: ignore[no-untyped-def]
    listing = _listing_from_args(request.args)
    people = _my_people(current_user())
    return render(
        "web/fund_person.html",
        title="Who is this for?",
        active="search",
        listing=listing,
        people=people,
        listing_query=_listing_query(listing),
        back=request.referrer if request.referrer and "/search" in request.referrer else "/search",
    )


def _latest_plan(person_id: str) -> dict[str, Any] | None:
    plans = call("budget", "GET", f"/people/{person_id}/plans")
    if not plans:
        return None
    return max(plans, key=lambda p: (p.get("created_at") or "", p.get("version") or 0))


@bp.route("/fund/<person_id>", methods=["GET", "POST"])
@login_required("advisor")
def fund_request(person_id: str):  # type: ignore[no-untyped-def]
    listing = _listing_from_args(request.values)
    person = call("budget", "GET", f"/people/{person_id}")
    plan = _latest_plan(person_id)
    scheme = call("budget", "GET", f"/schemes/{person['scheme_id']}")
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        goal_id = form.get("goal_id", "")
        goals = {g["id"] for g in (plan or {}).get("goals", [])}
        if goal_id not in goals:
            errors["goal_id"] = "Choose the plan goal this activity helps with"
        amount = parse_pounds(form.get("amount", ""))
        remaining = person["budget"]["remaining_pence"]
        if amount is None or amount <= 0:
            errors["amount"] = "Enter the amount in pounds and pence, like 12.50"
        elif amount > remaining:
            errors["amount"] = (
                f"The amount must be {money(remaining)} or less: that is what is left"
            )
        if not errors:
            body = {
                "person_id": person_id,
                "goal_id": goal_id,
                "listing_id": listing["id"],
                **(
                    {"cost_option_id": listing["cost_option_id"]}
                    if listing["cost_option_id"]
                    else {}
                ),
                "amount_pence": amount,
                "submit": True,
            }
            try:
                created = call(
                    "budget",
                    "POST",
                    "/requests",
                    json=body,
                    headers={"Idempotency-Key": form.get("idempotency_key") or uuid.uuid4().hex},
                )
            except ServiceError as err:
                if err.status in (409, 422):
                    field = "goal_id" if "goal_id" in err.field_errors else "amount"
                    errors[field] = err.detail
                elif err.status in (404, 503, 504):
                    errors["listing"] = (
                        "We could not check this activity with the directory just now. "
                        "Try again in a few minutes."
                    )
                else:
                    raise
            else:
                state = created.get("state")
                if state == "approved":
                    flash(f"Approved: {money(created['amount_pence'])} for {listing['name']}.")
                else:
                    flash(
                        f"Request sent to the budget holder: {money(created['amount_pence'])} "
                        f"for {listing['name']}."
                    )
                return redirect(url_for("web.person", person_id=person_id))
    return render(
        "web/fund_request.html",
        title="Fund this activity",
        active="search",
        listing=listing,
        person=person,
        plan=plan,
        scheme=scheme,
        form=form,
        errors=error_list(errors),
        field_errors=errors,
        idempotency_key=form.get("idempotency_key") or uuid.uuid4().hex,
        listing_query=_listing_query(listing),
        back=url_for("web.fund_choose_person") + "?" + _listing_query(listing),
    ), (400 if errors else 200)


# --- advisor: caseload -----------------------------------------------------------------------


@bp.get("/caseload")
@login_required("advisor", "admin")
def caseload():  # type: ignore[no-untyped-def]
    people = _my_people(current_user())
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
    plan = _latest_plan(person_id)
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
    current = _latest_plan(person_id)
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
                    current = _latest_plan(person_id)
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


# --- budget holder: approvals ----------------------------------------------------------------


def _requests_in(*states: str, limit: int = 100) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for state in states:
        items.extend(
            call("budget", "GET", "/requests", params={"state": state, "per_page": limit}).get(
                "items", []
            )
        )
    return items


@bp.get("/approvals")
@login_required("budget_holder", "admin")
def approvals():  # type: ignore[no-untyped-def]
    waiting = _requests_in("submitted")
    waiting.sort(key=lambda r: r.get("submitted_at") or r.get("created_at") or "")
    return render(
        "web/approvals.html",
        title="Requests to approve",
        active="approvals",
        requests=waiting,
        messages=get_flashed_messages(),
        days_since=days_since,
    )


@bp.route("/approvals/<request_id>", methods=["GET", "POST"])
@login_required("budget_holder", "admin")
def decide(request_id: str):  # type: ignore[no-untyped-def]
    req = call("budget", "GET", f"/requests/{request_id}")
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        decision = form.get("decision", "")
        reason = form.get("reason", "").strip()
        if decision not in ("approve", "reject", "request-info"):
            errors["decision"] = "Choose whether to approve, reject or ask for more information"
        elif decision != "approve" and not reason:
            errors["reason"] = (
                "Enter the reason: the advisor and young person will see it"
                if decision == "reject"
                else "Enter what information you need"
            )
        elif len(reason) > 2000:
            errors["reason"] = "The reason must be 2000 characters or fewer"
        if not errors:
            try:
                call(
                    "budget",
                    "POST",
                    f"/requests/{request_id}/{decision}",
                    json={"reason": reason} if decision != "approve" else None,
                    headers={"Idempotency-Key": form.get("idempotency_key") or uuid.uuid4().hex},
                )
            except ServiceError as err:
                if err.status not in (409, 422):
                    raise
                errors["decision"] = err.detail
            else:
                done = {
                    "approve": "Approved",
                    "reject": "Rejected",
                    "request-info": "Sent back for more information",
                }
                flash(f"{done[decision]}: {req['item']} ({money(req['amount_pence'])}).")
                return redirect(url_for("web.approvals"))
    person = None
    try:
        person = call("budget", "GET", f"/people/{req['person_id']}")
    except ServiceError:
        person = None
    return render(
        "web/decide.html",
        title="Decide on a request",
        active="approvals",
        req=req,
        person=person,
        form=form,
        errors=error_list(errors),
        field_errors=errors,
        idempotency_key=form.get("idempotency_key") or uuid.uuid4().hex,
        back="/approvals",
    ), (400 if errors else 200)


# --- finance: payments -----------------------------------------------------------------------


@bp.get("/payments")
@login_required("finance", "admin")
def payments():  # type: ignore[no-untyped-def]
    return render(
        "web/payments.html",
        title="Payments",
        active="payments",
        to_order=_requests_in("approved"),
        to_pay=_requests_in("ordered"),
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


# --- provider --------------------------------------------------------------------------------


@bp.get("/provider")
@login_required("provider")
def provider_home():  # type: ignore[no-untyped-def]
    provider_id = current_user().identity.provider_id  # type: ignore[union-attr]
    answer = call("budget", "GET", "/provider/requests", params={"per_page": 100})
    listings = call(
        "directory", "GET", "/listings/", params={"provider_id": provider_id, "per_page": 100}
    )
    checks = call("directory", "GET", f"/providers/{provider_id}/due-diligence")
    return render(
        "web/provider.html",
        title="Your organisation",
        active="provider",
        requests=answer.get("items", []),
        listings=listings.get("items", []),
        provider=checks,
        messages=get_flashed_messages(),
    )


LISTING_UNITS = (
    ("per_session", "A session"),
    ("per_month", "A month"),
    ("per_year", "A year"),
    ("one_off", "One-off"),
)


def listing_text_errors(name: str, description: str) -> dict[str, str]:
    """GOV.UK messages for a listing's name and description, within the directory's limits."""
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Enter the name of the activity"
    elif len(name) > 200:
        errors["name"] = "The name must be 200 characters or fewer"
    if len(description) > 5000:
        errors["description"] = "The description must be 5000 characters or fewer"
    return errors


@bp.route("/provider/listings/new", methods=["GET", "POST"])
@login_required("provider")
def new_listing():  # type: ignore[no-untyped-def]
    terms = call("directory", "GET", "/taxonomy/", identity=False)
    allowed = {t["slug"]: t["name"] for t in terms if not t.get("excluded")}
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        name = form.get("name", "").strip()
        description = form.get("description", "").strip()
        errors.update(listing_text_errors(name, description))
        category = form.get("category", "")
        if category not in allowed:
            errors["category"] = "Choose what kind of activity it is"
        town = form.get("town", "").strip()
        if not town:
            errors["town"] = "Enter the town where it happens"
        elif len(town) > 80:
            errors["town"] = "The town must be 80 characters or fewer"
        postcode = form.get("postcode", "").strip().upper()
        if len(postcode) > 10:
            errors["postcode"] = "Enter a real postcode, like TN34 1AA"
        price = parse_pounds(form.get("price", "")) if form.get("price", "").strip() else None
        if form.get("price", "").strip() and price is None:
            errors["price"] = "Enter the price in pounds and pence, like 8.50, or 0 if it is free"
        unit = form.get("unit", "")
        if price is not None and unit not in dict(LISTING_UNITS):
            errors["unit"] = "Choose what the price pays for"
        if not errors:
            body: dict[str, Any] = {
                "organization_id": current_user().identity.provider_id,  # type: ignore[union-attr]
                "name": name,
                "description": description,
                "categories": [category],
                "location": {
                    "address_1": form.get("address_1", "").strip()[:200],
                    "town": town,
                    "postcode": postcode or None,
                },
            }
            if price is not None:
                body["cost_options"] = [{"amount_pence": price, "unit": unit}]
            answer = call_raw("directory", "POST", "/listings/", json=body)
            if answer.status_code == 201:
                flash(f"Listing added: {name}.")
                return redirect(url_for("web.provider_home"))
            if answer.status_code != 422:
                raise ServiceError(answer.status_code, {"title": "The listing was not saved"})
            problem = ServiceError(422, answer.json())
            known = {"name", "description", "town", "postcode", "price", "unit"}
            for field, messages in problem.field_errors.items():
                target = {"amount_pence": "price", "categories": "category"}.get(field, field)
                errors[target if target in known | {"category"} else "name"] = messages[0]
            if not errors:
                errors["name"] = problem.detail
    return render(
        "web/new_listing.html",
        title="Add a listing",
        active="provider",
        terms=sorted(allowed.items(), key=lambda kv: kv[1]),
        units=LISTING_UNITS,
        form=form,
        errors=error_list(errors),
        field_errors=errors,
        back="/provider",
    ), (400 if errors else 200)


@bp.route("/provider/listings/<listing_id>", methods=["GET", "POST"])
@login_required("provider")
def edit_listing(listing_id: str):  # type: ignore[no-untyped-def]
    try:
        uuid.UUID(listing_id)
    except ValueError:
        abort(404)
    response = call_raw("directory", "GET", f"/listings/{listing_id}")
    if response.status_code != 200:
        abort(404)
    found, etag = response.json(), response.headers.get("ETag", "")
    if found.get("organization_id") != current_user().identity.provider_id:  # type: ignore[union-attr]
        abort(403)
    errors: dict[str, str] = {}
    form = request.form
    conflict = False
    if request.method == "POST":
        body: dict[str, Any] = {
            "name": form.get("name", "").strip(),
            "description": form.get("description", "").strip(),
        }
        errors.update(listing_text_errors(body["name"], body["description"]))
        for field, label in (("minimum_age", "Youngest age"), ("maximum_age", "Oldest age")):
            raw = form.get(field, "").strip()
            if not raw:
                body[field] = None
            elif not raw.isdigit() or int(raw) > 120:
                errors[field] = f"{label} must be a whole number between 0 and 120"
            else:
                body[field] = int(raw)
        if not errors:
            answer = call_raw(
                "directory",
                "PATCH",
                f"/listings/{listing_id}",
                json=body,
                headers={"If-Match": form.get("etag", "")},
            )
            if answer.status_code == 200:
                flash(f"Saved: {body['name']}.")
                return redirect(url_for("web.provider_home"))
            if answer.status_code in (412, 428):
                conflict = True
                errors["name"] = (
                    "Someone else changed this listing after you opened it. "
                    "Their version is shown below: make your change again."
                )
                form = {}  # type: ignore[assignment]
            elif answer.status_code == 422:
                problem = ServiceError(422, answer.json())
                for name, messages in problem.field_errors.items():
                    errors[name if name in body else "name"] = messages[0]
            else:
                raise ServiceError(answer.status_code, {"title": "The listing was not saved"})
    return render(
        "web/edit_listing.html",
        title="Change a listing",
        active="provider",
        listing=found,
        etag=etag,
        form=form,
        conflict=conflict,
        errors=error_list(errors),
        field_errors=errors,
        back="/provider",
    ), (409 if conflict else 400 if errors else 200)


# --- programme dashboard ---------------------------------------------------------------------


@bp.get("/dashboard")
@login_required("budget_holder", "admin", "finance")
def dashboard():  # type: ignore[no-untyped-def]
    report = call("budget", "GET", "/reports/summary")
    outcomes = None
    try:
        outcomes = call("outcomes", "GET", "/reports/evaluation")
    except ServiceError:
        outcomes = None
    months = list(report.get("spend", {}).get("by_month", {}).items())[-12:]
    top = max((v for _k, v in months), default=0) or 1
    return render(
        "web/dashboard.html",
        title="Programme dashboard",
        active="dashboard",
        report=report,
        outcomes=outcomes,
        months=months,
        top=top,
    )


@bp.get("/dashboard/summary.csv")
@login_required("budget_holder", "admin", "finance")
def summary_csv():  # type: ignore[no-untyped-def]
    answer = call_raw("budget", "GET", "/reports/summary", params={"format": "csv"})
    if answer.status_code != 200:
        raise ServiceError(answer.status_code, {"title": "The figures are not available"})
    return Response(
        answer.content,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="programme-figures.csv"'},
    )


@bp.get("/dashboard/evaluation")
@login_required("budget_holder", "admin", "finance")
def evaluation_report():  # type: ignore[no-untyped-def]
    """The outcomes service's own HTML report, served as it is (it is self-contained)."""
    answer = call_raw("outcomes", "GET", "/reports/evaluation", params={"format": "html"})
    if answer.status_code != 200:
        raise ServiceError(answer.status_code, {"title": "The evaluation report is not available"})
    return Response(answer.content, mimetype="text/html")


# --- young person: a check-in from a link (public) --------------------------------------------


def _feedback_form(token: str) -> dict[str, Any] | None:
    if len(token) > 200:
        return None
    answer = call_raw("outcomes", "GET", f"/feedback/{token}", identity=False)
    if answer.status_code == 404:
        return None
    if answer.status_code != 200:
        raise ServiceError(answer.status_code, {"title": "The check-in is not available"})
    return answer.json()


@bp.route("/feedback/<token>", methods=["GET", "POST"])
@bp.route("/check-in/<token>", methods=["GET", "POST"])
def feedback(token: str):  # type: ignore[no-untyped-def]
    form_spec = _feedback_form(token)
    if form_spec is None:
        return render("web/feedback_gone.html", title="This link has already been used"), 404
    errors: dict[str, str] = {}
    values = request.form
    if request.method == "POST":
        answers: dict[str, Any] = {}
        for section in form_spec.get("sections", []):
            for item in section.get("items", []):
                key = item["key"]
                raw = values.get(key, "").strip()
                if not raw:
                    if item.get("required"):
                        errors[key] = f"Choose an answer: {item['text']}"
                    continue
                if item.get("type") in ("numeric", "choice"):
                    try:
                        answers[key] = int(raw)
                    except ValueError:
                        errors[key] = f"Choose an answer: {item['text']}"
                else:
                    answers[key] = raw[: item.get("max_length") or 2000]
        if not errors:
            answer = call_raw(
                "outcomes", "POST", f"/feedback/{token}", identity=False, json={"answers": answers}
            )
            if answer.status_code == 200:
                return redirect(url_for("web.feedback_thanks"))
            if answer.status_code == 404:
                return render(
                    "web/feedback_gone.html", title="This link has already been used"
                ), 404
            if answer.status_code != 422:
                raise ServiceError(answer.status_code, {"title": "The check-in was not saved"})
            problem = ServiceError(422, answer.json())
            for name, messages in problem.field_errors.items():
                errors[name] = messages[0]
            if not errors:
                errors["form"] = problem.detail
    return render(
        "web/feedback.html",
        title=form_spec.get("title") or "Check-in",
        spec=form_spec,
        form=values,
        errors=[{"text": text, "href": "#" + _field_id(k)} for k, text in errors.items()],
        field_errors=errors,
        field_id=_field_id,
    ), (400 if errors else 200)


def _field_id(key: str) -> str:
    return "q-" + "".join(ch if ch.isalnum() else "-" for ch in key)


@bp.get("/feedback/thank-you")
def feedback_thanks():  # type: ignore[no-untyped-def]
    return render("web/feedback_thanks.html", title="Thank you")
