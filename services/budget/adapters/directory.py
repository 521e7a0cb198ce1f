"""The directory, as the budget service sees it: the fundability answer for a listing's cost option."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from shared.errors import DependencyUnavailable, NotFound, ValidationFailed
from shared.http import ServiceClient
from shared.identity import service_identity


@dataclass(frozen=True)
class Fundability:
    listing_id: str
    cost_option_id: str | None
    fundable: bool
    reasons: list[dict[str, str]]
    price_pence: int | None
    listing_name: str
    provider_id: str | None
    provider_name: str
    provider_verified: bool
    categories: list[str] = field(default_factory=list)
    excluded_categories: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Fundability:
        provider = body.get("provider") or {}
        return cls(
            listing_id=body["listing_id"],
            cost_option_id=body.get("cost_option_id"),
            fundable=bool(body.get("fundable")),
            reasons=list(body.get("reasons") or []),
            price_pence=body.get("price_pence"),
            listing_name=body.get("listing_name") or "",
            provider_id=provider.get("id"),
            provider_name=provider.get("name") or "",
            provider_verified=provider.get("due_diligence_state") in ("verified", "expiring"),
            categories=list(body.get("categories") or []),
            excluded_categories=list(body.get("excluded_categories") or []),
        )


class DirectoryPort(Protocol):
    def fundability(self, listing_id: str, cost_option_id: str | None) -> Fundability: ...


class HttpDirectory:
    """Asks the directory over HTTP, as the budget service itself: through the client's urllib3
    pool of keep-alive connections (`ServiceClient.forward`, as the gateway's proxy), with its
    timeouts, retries of this idempotent GET, deadline header and signed token."""

    def __init__(self, client: ServiceClient):
        self.client = client
        self.identity = service_identity("budget")

    def fundability(self, listing_id: str, cost_option_id: str | None) -> Fundability:
        query = urlencode({"cost_option_id": cost_option_id}) if cost_option_id else None
        path = f"/listings/{quote(str(listing_id), safe='')}/fundability"
        answer = self.client.forward("GET", path, query=query, identity=self.identity)
        if answer.status == 404:
            raise NotFound("The directory has no such listing.")
        if answer.status == 422:
            raise ValidationFailed(
                "The directory refused the listing or cost option.",
                errors={"cost_option_id": ["Not a cost option of this listing."]},
            )
        if answer.status != 200:
            raise DependencyUnavailable(
                f"The directory answered {answer.status}; nothing was changed."
            )
        return Fundability.from_json(json.loads(answer.content))
