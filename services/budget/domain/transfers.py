"""Moving between schemes: what is left of the old budget, and the old scheme's rule for it."""

from __future__ import annotations

from dataclasses import dataclass

from services.budget.domain.schemes import CARRY_OVER, RETURN_TO_POT


@dataclass(frozen=True)
class Settlement:
    """How a transfer settles: returned to the old pot, carried over, and drawn from the new pot."""

    remaining_pence: int
    returned_pence: int
    carried_pence: int
    top_up_pence: int

    @property
    def new_allocation_pence(self) -> int:
        """The person's budget on the new scheme: what was carried plus the new pot's top-up."""
        return self.carried_pence + self.top_up_pence


def settle(remaining_pence: int, rule: str, new_allocation_pence: int) -> Settlement:
    """Return what is left to the old pot, or carry it into the new allocation (never beyond it).

    `new_allocation_pence` is 0 when the person leaves for another council: all is returned.
    """
    if rule not in (RETURN_TO_POT, CARRY_OVER):
        raise ValueError(rule)
    carried = min(remaining_pence, new_allocation_pence) if rule == CARRY_OVER else 0
    return Settlement(
        remaining_pence=remaining_pence,
        returned_pence=remaining_pence - carried,
        carried_pence=carried,
        top_up_pence=new_allocation_pence - carried,
    )
