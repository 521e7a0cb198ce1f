"""Deterministic ids and demo users shared by every service's seed, so seeded records line up across databases."""

from __future__ import annotations

import json
import uuid
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

_NAMESPACE = uuid.UUID("6f1c5a52-8f4e-4a8e-9a3c-2d1f0b7e5c11")

# The demo clock: seeded histories are laid out relative to this day, whatever today is.
DEMO_TODAY = date(2026, 11, 2)

# Demo users the sign-in page offers (sub, role, label); `phb token --role R` defaults to demo-R.
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("demo-advisor", "advisor", "Sam (personal advisor)"),
    ("demo-advisor-2", "advisor", "Jordan (social worker)"),
    ("demo-budget-holder", "budget_holder", "Priya (budget holder)"),
    ("demo-finance", "finance", "Morgan (finance officer)"),
    ("demo-provider", "provider", "Hastings Harbour Gym (provider)"),
    ("demo-admin", "admin", "Chris (programme lead)"),
    ("demo-commissioner", "commissioner", "Jo (NHS commissioner)"),
    ("demo-carer", "carer", "Alex (parent of a child on the children's scheme)"),
)


def demo_uuid(kind: str, n: int | str) -> str:
    """The same id in every database for the n-th demo record of a kind ("provider", "listing", ...)."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{n}"))


# The demo provider user's organisation.
DEMO_PROVIDER_ID = demo_uuid("provider", 0)


CATALOGUE_FILE = Path(__file__).with_name("demo_catalogue.json")


@cache
def demo_catalogue() -> tuple[dict[str, Any], ...]:
    """The directory's demo listings as other seeds may know them (ids, names, prices, states).

    A data file both seeds read, so no service imports another to line its demo records up; the
    directory writes it (`python -m services.directory.demo_data > shared/demo_catalogue.json`)
    and refuses to seed a catalogue that disagrees with it.
    """
    return tuple(json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))["listings"])
