"""What the directory understood from the words, as links on the search page: each filter it read
from the words can be removed, and a young person's age from the caseload pre-fills the form."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from services.gateway.web.core import ServiceError, call
from services.gateway.web.segments import seg, valid_id


def removable_filters(
    form: MultiDict[str, str], result: dict[str, Any] | None
) -> list[dict[str, str]]:
    """Each filter read from the words, with the link that searches again without it."""
    if not result:
        return []
    links = []
    for found in result["understood"]["filters"]:
        params = form.to_dict(flat=False)
        params["q"] = [found["remove_q"]]
        params.pop("page", None)
        links.append({"label": found["label"], "href": "/search?" + urlencode(params, doseq=True)})
    return links


def age_on(birth_date: str, today: date) -> int | None:
    try:
        born = date.fromisoformat(birth_date)
    except (TypeError, ValueError):
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def searching_for(person_id: str | None, today: date) -> dict[str, Any] | None:
    """The young person an advisor is searching for (their own caseload only: the budget
    service refuses anyone else's), with their age; None when there is no such person."""
    if not person_id or not valid_id(person_id):  # nothing else names a person (web/segments.py)
        return None
    try:
        person = call("budget", "GET", f"/people/{seg(person_id)}")
    except ServiceError as err:
        if err.status in (403, 404, 422):
            return None
        raise
    return {
        "id": person["id"],
        "case_reference": person["case_reference"],
        "age": age_on(person.get("birth_date") or "", today),
    }
