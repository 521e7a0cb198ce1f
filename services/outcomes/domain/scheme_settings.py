"""Outcomes per scheme: which instrument set a scheme's check-ins ask (and a parent's proxy set for
a young child), and the age bands its reports use. Plain data and rules; no database here.

Outcomes knows a person's birth year only (no date of birth leaves the budget service), so an age
is "the age they reach this year": the same count the parent-or-carer rule uses (access.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

SELF, PROXY = "self", "proxy"
DEFAULT_SET = "default"
# A parent or carer acts for a child under 16 (access.PARENT_ACTS_BELOW_AGE): a proxy check-in
# must be one they may answer.
PROXY_AGE_LIMIT = 16
MAX_BANDS = 12
BAND = re.compile(r"^(\d{1,3})(?:-(\d{1,3})|\+)$")
OTHER_AGES = "other ages"  # outside every band the scheme chose (e.g. since its ages changed)


@dataclass(frozen=True)
class InstrumentSet:
    """What one kind of check-in asks, who answers it, and the words its form uses."""

    id: str
    title: str
    respondent: str  # self | proxy (a parent or carer answers about their child)
    instruments: tuple[str, ...]
    form_title: str
    form_intro: str
    follow_up_wording: dict[str, str] = field(default_factory=dict)


def parse_set(data: dict[str, Any]) -> InstrumentSet:
    respondent = str(data.get("respondent", SELF))
    if respondent not in (SELF, PROXY):
        raise ValueError(f"Set {data.get('id')!r}: respondent must be self or proxy.")
    return InstrumentSet(
        id=str(data["id"]),
        title=str(data["title"]),
        respondent=respondent,
        instruments=tuple(str(i) for i in data["instruments"]),
        form_title=str(data.get("form_title") or "How are things?"),
        form_intro=str(data.get("form_intro") or ""),
        follow_up_wording={
            str(k): str(v) for k, v in (data.get("follow_up_wording") or {}).items()
        },
    )


@dataclass(frozen=True)
class AgeBand:
    low: int
    high: int | None  # None: open-ended ("65+")

    @property
    def label(self) -> str:
        return f"{self.low}+" if self.high is None else f"{self.low}-{self.high}"

    def holds(self, age: int) -> bool:
        return age >= self.low and (self.high is None or age <= self.high)


def parse_band(text: str) -> AgeBand:
    """'5-10' → AgeBand(5, 10); '65+' → AgeBand(65, None)."""
    found = BAND.match(text.strip())
    if not found:
        raise ValueError(text)
    low = int(found.group(1))
    high = int(found.group(2)) if found.group(2) is not None else None
    if high is not None and high < low:
        raise ValueError(text)
    return AgeBand(low, high)


@dataclass(frozen=True)
class SchemeFacts:
    """A scheme as the budget service announced it: its name, kind and age range."""

    id: str
    name: str = ""
    kind: str = ""
    min_age: int | None = None
    max_age: int | None = None


@dataclass(frozen=True)
class OutcomeSettings:
    instrument_set: str
    age_bands: tuple[str, ...]
    proxy_set: str | None = None
    proxy_below_age: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "instrument_set": self.instrument_set,
            "proxy_set": self.proxy_set,
            "proxy_below_age": self.proxy_below_age,
            "age_bands": list(self.age_bands),
        }


# What a scheme uses until an admin chooses, by the kind the budget service announced.
PRESETS: dict[str, OutcomeSettings] = {
    "care_leavers": OutcomeSettings(DEFAULT_SET, ("16-17", "18-20", "21-25")),
    "mental_health_s117": OutcomeSettings(DEFAULT_SET, ("0-17", "18-25", "26-64", "65+")),
    "children_young_people": OutcomeSettings(
        "children", ("0-4", "5-10", "11-15", "16-17", "18-25"), "parent-proxy", 8
    ),
}
# A scheme outcomes has not heard of: bands wide enough that nobody lands in a wrong one.
FALLBACK = OutcomeSettings(DEFAULT_SET, ("0-15", "16-17", "18-20", "21-25", "26+"))


def defaults_for(facts: SchemeFacts | None) -> OutcomeSettings:
    return PRESETS.get(facts.kind if facts else "", FALLBACK)


def age_reached(birth_year: int | None, on: date) -> int | None:
    return None if birth_year is None else on.year - birth_year


def band_of(bands: tuple[str, ...], birth_year: int | None, on: date) -> str:
    """The band a person falls in on a day. With a birth year only, they are one of two ages; the
    older first (the count every other rule uses), else the younger."""
    age = age_reached(birth_year, on)
    if age is None:
        return "unknown"
    parsed = [parse_band(b) for b in bands]
    for candidate in (age, age - 1):
        for band in parsed:
            if band.holds(candidate):
                return band.label
    return OTHER_AGES


def set_for(settings: OutcomeSettings, birth_year: int | None, on: date) -> tuple[str, str]:
    """(set id, respondent-to-be) for a check-in due on `on`: the proxy set while the child is
    under the scheme's proxy age, else the scheme's own set."""
    age = age_reached(birth_year, on)
    if (
        settings.proxy_set
        and settings.proxy_below_age is not None
        and age is not None
        and age < settings.proxy_below_age
    ):
        return settings.proxy_set, PROXY
    return settings.instrument_set, SELF


def check(
    values: dict[str, Any], sets: dict[str, InstrumentSet], facts: SchemeFacts | None
) -> dict[str, list[str]]:
    """Every problem with a scheme's outcome settings, field by field (empty when they fit)."""
    errors: dict[str, list[str]] = {}
    own = values.get("instrument_set")
    if own not in sets or sets[own].respondent != SELF:
        choices = sorted(k for k, s in sets.items() if s.respondent == SELF)
        errors["instrument_set"] = [f"Choose one of: {', '.join(choices)}."]
    proxy, below = values.get("proxy_set"), values.get("proxy_below_age")
    if proxy is not None and (proxy not in sets or sets[proxy].respondent != PROXY):
        choices = sorted(k for k, s in sets.items() if s.respondent == PROXY)
        errors["proxy_set"] = [f"Choose one of: {', '.join(choices)}, or none."]
    if proxy is not None and below is None:
        errors["proxy_below_age"] = ["Give the age below which a parent or carer answers."]
    if proxy is None and below is not None:
        errors["proxy_set"] = ["Choose the set a parent or carer answers, or clear the age."]
    if below is not None:
        low = facts.min_age if facts else None
        if not 1 <= below <= PROXY_AGE_LIMIT:
            errors["proxy_below_age"] = [
                f"A parent or carer answers only for a child under {PROXY_AGE_LIMIT}: "
                f"give an age from 1 to {PROXY_AGE_LIMIT}."
            ]
        elif low is not None and below <= low:
            errors["proxy_below_age"] = [
                f"Nobody on this scheme is under {below}: it starts at {low}."
            ]
    band_problems = band_errors(
        list(values.get("age_bands") or []),
        facts.min_age if facts else None,
        facts.max_age if facts else None,
    )
    if band_problems:
        errors["age_bands"] = band_problems
    return errors


def band_errors(bands: list[str], low: int | None, high: int | None) -> list[str]:
    """Bands must read like 5-10 or 65+, follow on from each other with no gap or overlap, and
    cover the scheme's age range exactly (so everyone on it falls in one band)."""
    if not bands:
        return ["Give at least one age band."]
    if len(bands) > MAX_BANDS:
        return [f"Give at most {MAX_BANDS} age bands."]
    parsed: list[AgeBand] = []
    problems: list[str] = []
    for text in bands:
        try:
            parsed.append(parse_band(str(text)))
        except ValueError:
            problems.append(f"{text!r} is not an age band like 5-10 or 65+.")
    if problems:
        return problems
    for before, after in zip(parsed, parsed[1:], strict=False):
        if before.high is None or after.low != before.high + 1:
            problems.append(f"{after.label} must start the year after {before.label} ends.")
    first, last = parsed[0], parsed[-1]
    if low is not None and first.low != low:
        problems.append(f"The first band must start at {low}, the scheme's youngest age.")
    if high is not None and last.high != high:
        problems.append(f"The last band must end at {high}, the scheme's oldest age.")
    if high is None and last.high is not None and not problems:
        problems.append(f"The scheme has no upper age: end with an open band like {last.low}+.")
    return problems
