"""What every page shares: the server-side session, CSRF, who is signed in, calling services, formatting."""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

import requests
from flask import abort, g, redirect, render_template, request, session, url_for
from werkzeug.datastructures import ImmutableMultiDict

from services.gateway.registry import gateway_services
from services.gateway.web.segments import refuse_unsafe_path
from shared import clock
from shared.demo import DEMO_USERS
from shared.identity import ROLES, Identity

UK = ZoneInfo("Europe/London")
CSRF_FIELD = "csrf_token"
ROLE_NAMES = {
    "advisor": "Advisor",
    "budget_holder": "Budget holder",
    "finance": "Finance",
    "provider": "Provider",
    "admin": "Programme lead",
    "commissioner": "Commissioner",
    "carer": "Parent or carer",
}


@dataclass(frozen=True)
class User:
    identity: Identity
    label: str

    @property
    def role(self) -> str:
        return self.identity.role


# --- session and sign-in ---------------------------------------------------------------------


def current_user() -> User | None:
    """The signed-in user, from the server-side session (the cookie holds only its random id)."""
    if "user" in g:
        return g.user
    user = None
    data = session.get("user")
    if isinstance(data, dict) and data.get("sub") and data.get("role") in ROLES:
        identity = Identity(
            sub=str(data["sub"]), role=str(data["role"]), provider_id=data.get("provider_id")
        )
        user = User(identity, str(data.get("label") or identity.sub))
    g.user = user
    return user


def sign_in(identity: Identity, label: str, **server_only: Any) -> None:
    """Start a new session (a new id: no fixation) for `identity`; `server_only` values (the
    provider's ID token) are kept in the session row and never sent to the browser."""
    session.clear()
    regenerate = getattr(session, "regenerate", None)
    if regenerate is not None:
        regenerate()
    session["user"] = {
        "sub": identity.sub,
        "role": identity.role,
        "provider_id": identity.provider_id,
        "label": label,
    }
    session.update(server_only)
    session["csrf"] = secrets.token_urlsafe(32)
    g.pop("user", None)


def sign_out() -> None:
    """End the session: its row is deleted, so the old cookie is worth nothing."""
    end = getattr(session, "end", None)
    if end is not None:
        end()
    else:
        session.clear()
    g.pop("user", None)


def demo_label(sub: str) -> str:
    return next((label for s, _role, label in DEMO_USERS if s == sub), sub)


def login_required(*roles: str):
    """The page needs a signed-in user, of one of `roles` when given (403 page otherwise)."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                return redirect(url_for("web.sign_in", next=request.full_path.rstrip("?")))
            if roles and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


# --- CSRF ------------------------------------------------------------------------------------


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf() -> None:
    """Every form POST to a page carries the session's token (synchroniser token pattern)."""
    if request.method != "POST":
        return
    sent = request.form.get(CSRF_FIELD, "")
    expected = session.get("csrf", "")
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        abort(400, description="csrf")


# --- calling services as the signed-in user --------------------------------------------------


class ServiceError(Exception):
    """A service answered with a problem the page shows to the user."""

    def __init__(self, status: int, body: dict[str, Any]):
        super().__init__(body.get("detail") or body.get("title") or str(status))
        self.status = status
        self.body = body

    @property
    def detail(self) -> str:
        return str(self.body.get("detail") or self.body.get("title") or "Something went wrong.")

    @property
    def field_errors(self) -> dict[str, list[str]]:
        errors = self.body.get("errors") or {}
        flat: dict[str, list[str]] = {}
        for name, messages in errors.items() if isinstance(errors, dict) else []:
            if isinstance(messages, dict):  # nested (json: {field: [...]})
                for inner, msgs in messages.items():
                    flat[str(inner)] = [str(m) for m in _as_list(msgs)]
            else:
                flat[str(name)] = [str(m) for m in _as_list(messages)]
        return flat


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def call(
    service: str,
    method: str,
    path: str,
    *,
    identity: Identity | None | bool = True,
    expect: tuple[int, ...] = (200, 201),
    **kwargs: Any,
) -> Any:
    """Call a service as the signed-in user (or anonymously); JSON back, ServiceError otherwise."""
    response = call_raw(service, method, path, identity=identity, **kwargs)
    if response.status_code in expect:
        return response.json() if response.content else {}
    try:
        body = response.json()
    except ValueError:
        body = {"title": response.reason, "status": response.status_code}
    if not isinstance(body, dict):
        body = {"title": str(body)}
    raise ServiceError(response.status_code, body)


def call_raw(
    service: str, method: str, path: str, *, identity: Identity | None | bool = True, **kwargs: Any
) -> requests.Response:
    refuse_unsafe_path(path)
    if identity is True:
        user = current_user()
        identity = user.identity if user else None
    client = gateway_services().clients[service]
    headers = {"X-Request-ID": g.get("request_id", ""), **kwargs.pop("headers", {})}
    return client.request(
        method,
        path,
        identity=identity or None,
        headers=headers,
        **kwargs,
    )


# --- forms -----------------------------------------------------------------------------------

_MONEY = re.compile(r"^£?\s*(\d{1,11})(?:\.(\d{1,2}))?$")


def parse_pounds(text: str) -> int | None:
    """'£12.50', '12.5' or '12' as pence; None when it is not an amount of money."""
    match = _MONEY.match(text.strip().replace(",", ""))
    if not match:
        return None
    pounds, pence = match.group(1), (match.group(2) or "0").ljust(2, "0")
    return int(pounds) * 100 + int(pence)


def error_list(errors: dict[str, str]) -> list[dict[str, str]]:
    """GOV.UK error summary items, each linking to its field."""
    return [{"text": text, "href": f"#{field}"} for field, text in errors.items()]


def render(template: str, **context: Any) -> str:
    """A page; the variables every page's layout reads are always given (templates are strict)."""
    context.setdefault("active", None)
    context.setdefault("errors", [])
    context.setdefault("breadcrumbs", None)
    context.setdefault("back", None)
    if "field_errors" in context:
        context["field_errors"] = FieldErrors(context["field_errors"] or {})
    if isinstance(context.get("form"), Mapping):
        context["form"] = FormValues(context["form"])
    return render_template(template, **context)


class FieldErrors(dict[str, str]):
    """A page's errors by field: a field with no error has the message None, not an undefined."""

    def __missing__(self, key: str) -> None:
        return None


class FormValues(ImmutableMultiDict[str, Any]):
    """What the person typed, by field: a field they left out of the form is an empty string."""

    def __getitem__(self, key: str) -> Any:
        return super().__getitem__(key) if key in self else ""

    def get(self, key: str, default: Any = None, type: Any = None) -> Any:  # type: ignore[override]
        return super().get(key, default, type) if key in self else default


# --- formatting (GOV.UK style) ---------------------------------------------------------------


def money(pence: Any) -> str:
    if pence is None or pence == "":
        return ""
    pence = int(pence)
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}" if rest == 0 else f"{sign}£{pounds:,}.{rest:02d}"


def _parse(value: Any) -> date | datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    text = str(value)
    try:
        if "T" in text or " " in text:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        return date.fromisoformat(text)
    except ValueError:
        return None


def gov_date(value: Any) -> str:
    parsed = _parse(value)
    if parsed is None:
        return ""
    if isinstance(parsed, datetime) and parsed.tzinfo is not None:
        parsed = parsed.astimezone(UK)
    return f"{parsed.day} {parsed:%B %Y}"


def gov_datetime(value: Any) -> str:
    parsed = _parse(value)
    if not isinstance(parsed, datetime):
        return gov_date(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UK)
    hour = parsed.hour % 12 or 12
    suffix = "am" if parsed.hour < 12 else "pm"
    minutes = f":{parsed.minute:02d}" if parsed.minute else ""
    return f"{parsed.day} {parsed:%B %Y} at {hour}{minutes}{suffix}"


def days_since(value: Any) -> int | None:
    parsed = _parse(value)
    if parsed is None:
        return None
    day = parsed.date() if isinstance(parsed, datetime) else parsed
    return (clock.today() - day).days


def distance(metres: Any) -> str:
    if metres is None:
        return ""
    miles = float(metres) / 1609.344
    return f"{miles:.1f} miles" if miles < 10 else f"{miles:.0f} miles"


def humanise(slug: Any) -> str:
    text = str(slug or "").replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


STATE_TAGS = {
    "draft": ("Draft", "govuk-tag--grey"),
    "submitted": ("Waiting for approval", "govuk-tag--blue"),
    "info_requested": ("More information asked for", "govuk-tag--orange"),
    "approved": ("Approved", "govuk-tag--green"),
    "rejected": ("Rejected", "govuk-tag--red"),
    "ordered": ("Ordered", "govuk-tag--turquoise"),
    "paid": ("Paid", "govuk-tag--purple"),
    "evidenced": ("Evidenced", "govuk-tag--purple"),
    "closed": ("Closed", "govuk-tag--grey"),
    "cancelled": ("Cancelled", "govuk-tag--grey"),
    "expired": ("Expired", "govuk-tag--grey"),
}


def state_tag(state: str) -> dict[str, str]:
    text, classes = STATE_TAGS.get(state, (humanise(state), "govuk-tag--grey"))
    return {"text": text, "classes": classes}
