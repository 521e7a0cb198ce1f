"""The directory's rules, pure: due diligence states, staleness and fundability."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

KINDS = ("insurance", "safeguarding", "dbs", "qualification")
KIND_LABELS = {
    "insurance": "public liability insurance",
    "safeguarding": "safeguarding policy",
    "dbs": "DBS checks",
    "qualification": "specialist qualification",
}
EXPIRING_WITHIN_DAYS = 30
STALE_AFTER_DAYS = 365
STATUSES = ("active", "inactive", "defunct", "temporarily_closed")
UNITS = ("per_session", "per_month", "per_year", "one_off")
WELCOMES = ("care_experienced", "first_session_free", "bring_a_friend")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = {
    "MO": "monday",
    "TU": "tuesday",
    "WE": "wednesday",
    "TH": "thursday",
    "FR": "friday",
    "SA": "saturday",
    "SU": "sunday",
}
MAX_PRICE_PENCE = 1_000_000  # £10,000: anything above is a typing mistake


@dataclass(frozen=True)
class Check:
    kind: str
    expires_on: date


@dataclass(frozen=True)
class DueDiligence:
    """A provider's derived state, and the reasons behind it."""

    state: str  # verified, expiring, lapsed, unchecked
    missing: list[str] = field(default_factory=list)
    lapsed: list[Check] = field(default_factory=list)
    expiring: list[Check] = field(default_factory=list)
    valid_until: date | None = None  # earliest expiry of the required checks, when all are present

    @property
    def fundable(self) -> bool:
        return self.state in ("verified", "expiring")

    def reason(self) -> str:
        if self.lapsed:
            first = min(self.lapsed, key=lambda c: c.expires_on)
            return (
                f"The provider's {KIND_LABELS[first.kind]} expired on "
                f"{first.expires_on.isoformat()}."
            )
        if self.missing:
            names = ", ".join(KIND_LABELS[k] for k in self.missing)
            return f"The provider has no recorded {names}."
        if self.expiring:
            first = min(self.expiring, key=lambda c: c.expires_on)
            return (
                f"The provider's {KIND_LABELS[first.kind]} expires on "
                f"{first.expires_on.isoformat()}."
            )
        return "The provider's checks are all current."


def required_kinds(*, works_with_children: bool, needs_qualification: bool) -> list[str]:
    kinds = ["insurance", "safeguarding"]
    if works_with_children:
        kinds.append("dbs")
    if needs_qualification:
        kinds.append("qualification")
    return kinds


def latest_checks(checks: Iterable[Check]) -> dict[str, Check]:
    """The check that counts for each kind: the one recorded last (callers pass them in order)."""
    latest: dict[str, Check] = {}
    for check in checks:
        latest[check.kind] = check
    return latest


def due_diligence(checks: Iterable[Check], required: Iterable[str], today: date) -> DueDiligence:
    latest = latest_checks(checks)
    required = list(required)
    missing = [k for k in required if k not in latest]
    present = [latest[k] for k in required if k in latest]
    lapsed = [c for c in present if c.expires_on < today]
    soon = today + timedelta(days=EXPIRING_WITHIN_DAYS)
    expiring = [c for c in present if today <= c.expires_on <= soon]
    valid_until = min((c.expires_on for c in present), default=None) if not missing else None
    if lapsed:
        state = "lapsed"
    elif missing:
        state = "unchecked"
    elif expiring:
        state = "expiring"
    else:
        state = "verified"
    return DueDiligence(state, missing, lapsed, expiring, valid_until)


def is_stale(assured_date: date | None, today: date) -> bool:
    """Not assured by a person for 12 months (or never)."""
    return assured_date is None or (today - assured_date).days > STALE_AFTER_DAYS


@dataclass(frozen=True)
class Reason:
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def fundability_reasons(
    *,
    listing_status: str,
    archived: bool,
    provider: DueDiligence,
    excluded_categories: list[str],
    cost_option_known: bool,
) -> list[Reason]:
    """Why a listing's cost option can't be funded now; empty when it can."""
    reasons: list[Reason] = []
    if archived or listing_status != "active":
        status = "archived" if archived else listing_status.replace("_", " ")
        reasons.append(Reason("listing_inactive", f"The listing is {status}."))
    if provider.state == "lapsed":
        reasons.append(Reason("provider_lapsed", provider.reason()))
    elif provider.state == "unchecked":
        reasons.append(Reason("provider_unchecked", provider.reason()))
    if excluded_categories:
        reasons.append(
            Reason(
                "excluded_category",
                "A personal health budget can't pay for: " + ", ".join(excluded_categories) + ".",
            )
        )
    if not cost_option_known:
        reasons.append(Reason("cost_option_unknown", "The listing has no such cost option."))
    return reasons


def fundable_until(provider: DueDiligence, *, listing_ok: bool, excluded: bool) -> date | None:
    """The last day the listing can be funded on, or None when it can't be funded at all."""
    if not listing_ok or excluded or not provider.fundable:
        return None
    return provider.valid_until
