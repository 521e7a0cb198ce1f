"""The pages a council must publish: accessibility statement (PSBAR 2018), privacy notice (linked
from the young person's check-in), and cookies. Their facts come from configuration."""

from __future__ import annotations

from flask import Blueprint

from services.gateway.registry import gateway_services
from services.gateway.web.core import render

bp = Blueprint("legal", __name__)


def _facts() -> dict[str, str]:
    settings = gateway_services().security
    return {
        "contact": settings.org_contact_email,
        "dpo": settings.org_dpo_email,
        "retention": settings.privacy_retention,
        "statement_date": settings.accessibility_statement_date,
        "idle_minutes": str(settings.session_idle_seconds // 60),
        "absolute_hours": str(settings.session_absolute_seconds // 3600),
    }


@bp.get("/accessibility")
def accessibility() -> str:
    return render(
        "web/legal/accessibility.html",
        title="Accessibility statement for Wellbeing budgets",
        facts=_facts(),
    )


@bp.get("/privacy")
def privacy() -> str:
    return render("web/legal/privacy.html", title="Privacy notice", facts=_facts())


@bp.get("/cookies")
def cookies() -> str:
    return render("web/legal/cookies.html", title="Cookies", facts=_facts())
