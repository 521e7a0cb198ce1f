"""What may be bought: the directory's fundability answer, the scheme's exclusions, what is left."""

from __future__ import annotations

from dataclasses import dataclass

from services.budget.adapters.approval import ApprovalRead, SchemeTerms
from services.budget.adapters.directory import DirectoryPort, Fundability
from services.budget.adapters.orm import PurchaseRequest, Scheme
from services.budget.domain import rules
from services.budget.service_layer.commands import CreateRequest
from shared.errors import ValidationFailed


class InsufficientBudget(ValidationFailed):
    type_slug, title = "insufficient-funds", "Not enough budget left"


class NotFundable(ValidationFailed):
    type_slug, title = "not-fundable", "This can't be funded"


@dataclass(frozen=True)
class Purchase:
    """What a new request buys, from whom, for how much (before the budget is checked)."""

    payee: str
    item: str
    category: str | None
    provider_verified: bool
    price_pence: int | None = None
    listing_id: str | None = None
    cost_option_id: str | None = None
    provider_id: str | None = None


def refuse_unfundable(check: Fundability, excluded: list[str]) -> None:
    banned = rules.excluded_overlap(check.categories, [*excluded, *rules.ALWAYS_EXCLUDED])
    if banned or check.excluded_categories:
        names = ", ".join(sorted(set(banned) | set(check.excluded_categories)))
        raise NotFundable(
            f"This scheme can't fund {names}.",
            errors={"listing_id": [f"Excluded category: {names}."]},
            reasons=[{"code": "excluded_category", "message": f"Excluded: {names}."}],
        )
    if not check.fundable:
        message = "; ".join(r.get("message", r.get("code", "")) for r in check.reasons)
        raise NotFundable(
            f"The directory says this listing can't be funded: {message}",
            errors={"listing_id": [message or "Not fundable."]},
            reasons=check.reasons,
        )


def refuse_over_budget(available: int, amount: int) -> None:
    if amount > available:
        raise InsufficientBudget(
            f"Only {rules.pounds(available)} is left of this young person's budget.",
            errors={"amount_pence": [f"At most {available} pence is left."]},
            remaining_pence=available,
        )


def over_budget_on_approval(available: int, amount: int) -> InsufficientBudget:
    return InsufficientBudget(
        f"Only {rules.pounds(available)} is left of this young person's budget; "
        f"this request is for {rules.pounds(amount)}.",
        errors={"amount_pence": [f"At most {available} pence is left."]},
        remaining_pence=available,
    )


def describe(directory: DirectoryPort, cmd: CreateRequest, excluded: list[str]) -> Purchase:
    """A listing (asked of the directory) or named equipment; refused if the scheme can't fund it."""
    if cmd.listing_id:
        check = directory.fundability(cmd.listing_id, cmd.cost_option_id)
        refuse_unfundable(check, excluded)
        return Purchase(
            listing_id=check.listing_id,
            cost_option_id=check.cost_option_id,
            provider_id=check.provider_id,
            payee=check.provider_name or "provider",
            item=check.listing_name,
            category=check.categories[0] if check.categories else None,
            provider_verified=check.provider_verified,
            price_pence=check.price_pence,
        )
    if not cmd.supplier or not cmd.item:
        raise ValidationFailed(
            "Name a directory listing, or equipment and its supplier.",
            errors={
                "listing_id": ["Give a listing_id, or supplier and item."],
                **({} if cmd.supplier else {"supplier": ["Required for equipment."]}),
                **({} if cmd.item else {"item": ["Required for equipment."]}),
            },
        )
    category = cmd.category or "equipment"
    if rules.excluded_overlap([category], [*excluded, *rules.ALWAYS_EXCLUDED]):
        raise NotFundable(
            f"This scheme can't fund {category}.",
            errors={"category": [f"Excluded category: {category}."]},
        )
    return Purchase(payee=cmd.supplier, item=cmd.item, category=category, provider_verified=False)


def recheck(
    directory: DirectoryPort,
    req: PurchaseRequest | ApprovalRead,
    scheme: Scheme | SchemeTerms,
) -> Fundability | None:
    """The directory is asked again before a submission or an approval."""
    if not req.listing_id:
        return None
    check = directory.fundability(req.listing_id, req.cost_option_id)
    refuse_unfundable(check, list(scheme.excluded_categories or []))
    return check


def auto_approvable(scheme: Scheme | None, amount: int, provider_verified: bool) -> bool:
    """Small requests to verified providers are approved by the scheme's rule (0 turns it off)."""
    threshold = scheme.auto_approve_pence if scheme else 0
    return bool(threshold) and amount <= threshold and provider_verified
