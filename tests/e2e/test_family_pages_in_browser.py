"""A parent's child page in a real browser, on a 320-pixel phone, for a direct payment and a
notional budget (what each shows differs by budget type), each page checked with axe."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import axe_violations, no_horizontal_scroll, sign_in
from tests.integration.web.test_family_budget_types import CARER, _child_with_a_paid_request

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("budget_type", ["direct_payment", "notional"])
def test_a_parent_reads_their_childs_budget_on_a_phone(phone, suite, budget_type):  # type: ignore[no-untyped-def]
    person_id, item = _child_with_a_paid_request(suite, budget_type)
    sign_in(phone, CARER)

    phone.get_by_role("main").get_by_role("link", name="Your children").click()
    assert axe_violations(phone) == []
    phone.locator(f'a[href="/children/{person_id}"]').click()

    phone.get_by_role("heading", level=1).wait_for()
    assert item in phone.content()
    assert ("Payments to you" in phone.content()) == (budget_type == "direct_payment")
    assert no_horizontal_scroll(phone)
    assert axe_violations(phone) == []
