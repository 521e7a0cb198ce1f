"""Lookups more than one audience's pages make through the budget service."""

from __future__ import annotations

from typing import Any

from services.gateway.web.core import call
from services.gateway.web.segments import seg


def my_people(user: Any) -> list[dict[str, Any]]:
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


def latest_plan(person_id: str) -> dict[str, Any] | None:
    plans = call("budget", "GET", f"/people/{seg(person_id)}/plans")
    if not plans:
        return None
    return max(plans, key=lambda p: (p.get("created_at") or "", p.get("version") or 0))


def requests_in(*states: str, limit: int = 100) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for state in states:
        items.extend(
            call("budget", "GET", "/requests", params={"state": state, "per_page": limit}).get(
                "items", []
            )
        )
    return items
