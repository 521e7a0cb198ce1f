"""Directory factories through the gateway: an organisation of the test's own (with its due
diligence recorded, so it is fundable), and listings run by it."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from tests.support import RunningSuite

D = "/api/directory"
_numbers = itertools.count(1)


def create_organization(
    suite: RunningSuite,
    *,
    name: str | None = None,
    verified: bool = True,
    checks: dict[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A provider added by an admin; `verified` records insurance, safeguarding and DBS checks
    a year ahead, with `checks` mapping a kind to the reference recorded for it."""
    body = {"name": name or f"Fictional Test Provider {next(_numbers)}", **fields}
    created = suite.api("POST", f"{D}/providers/", role="admin", json=body)
    assert created.status_code == 201, created.text
    organization = created.json()
    if verified:
        references = {"insurance": "", "safeguarding": "", "dbs": "", **(checks or {})}
        expires_on = (date.today() + timedelta(days=365)).isoformat()
        for kind, reference in references.items():
            record_check(suite, organization["id"], kind, expires_on, reference=reference)
    return organization


def record_check(
    suite: RunningSuite, organization_id: str, kind: str, expires_on: str, **fields: Any
) -> dict[str, Any]:
    answer = suite.api(
        "POST",
        f"{D}/providers/{organization_id}/due-diligence",
        role="admin",
        json={"kind": kind, "expires_on": expires_on, **fields},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def listing_body(**fields: Any) -> dict[str, Any]:
    return {
        "name": f"Fictional test activity {next(_numbers)}",
        "description": "A weekly session for young people.",
        "categories": ["gym"],
        "minimum_age": 16,
        "cost_options": [{"amount_pence": 500, "unit": "per_session", "description": "Session"}],
        "schedules": [{"byday": "TU", "opens_at": "18:00", "closes_at": "19:00"}],
        "location": {"address_1": "1 Test Street", "town": "Hastings", "postcode": "TN34 1AA"},
        **fields,
    }


def create_listing(suite: RunningSuite, organization_id: str, **fields: Any) -> dict[str, Any]:
    """A listing the organisation's own provider adds (with its ETag under `_etag`)."""
    created = suite.api(
        "POST",
        f"{D}/listings/",
        role="provider",
        provider_id=organization_id,
        json=listing_body(**fields),
    )
    assert created.status_code == 201, created.text
    return {**created.json(), "_etag": created.headers["ETag"]}


def get_listing(suite: RunningSuite, listing_id: str) -> dict[str, Any]:
    answer = suite.api("GET", f"{D}/listings/{listing_id}")
    assert answer.status_code == 200, answer.text
    return {**answer.json(), "_etag": answer.headers["ETag"]}


def edit_listing(
    suite: RunningSuite,
    listing: dict[str, Any],
    body: dict[str, Any],
    *,
    method: str = "PATCH",
    provider_id: str | None = None,
    role: str = "provider",
) -> Any:
    """An edit by the listing's own provider (or `provider_id`), with the ETag it read."""
    return suite.api(
        method,
        f"{D}/listings/{listing['id']}",
        role=role,
        provider_id=provider_id or listing["organization_id"],
        json=body,
        headers={"If-Match": listing["_etag"]},
    )
