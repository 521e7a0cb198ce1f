"""The pages a council must publish: accessibility statement (PSBAR 2018), privacy notice (linked
from the young person's check-in), and cookies. Their facts come from configuration."""

from __future__ import annotations

from flask import Blueprint, current_app

from services.gateway.web.core import render
from shared.config import env

bp = Blueprint("legal", __name__)


def _facts() -> dict[str, str]:
    settings = current_app.extensions["phb_gateway_settings"]
    return {
        "contact": env("ORG_CONTACT_EMAIL") or "wellbeing.budgets@council.example",
        "dpo": env("ORG_DPO_EMAIL") or "dpo@council.example",
        "retention": env("PRIVACY_RETENTION")
        or "6 years after the young person leaves the programme, then deleted",
        "statement_date": env("ACCESSIBILITY_STATEMENT_DATE") or "1 December 2026",
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
