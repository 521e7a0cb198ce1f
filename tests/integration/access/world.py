"""The actors and the records the role x operation test acts on, built through the gateway.

Side A is the object under test: an organisation with a listing, a scheme with a pot and a
budget holder, a child on an advisor's caseload with a plan and a parent who may act for them, requests in each state, and
the check-ins the outcomes service makes from the budget's events. Side B gives the "other"
actors something of their own: another organisation, scheme, holder and advisor.

Every builder makes what one operation needs and returns a `Target`: the path parameters, the
body, extra headers, and the id a listing should (or should not) show. A call that is expected
to change something gets a target of its own, so no cell depends on another cell's effect.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import requests

from tests.factories.directory import create_listing, create_organization, listing_body
from tests.support import RELAY_WAIT, RunningSuite

ACTORS = (
    "anonymous",
    "advisor",
    "other_advisor",
    "holder",
    "other_holder",
    "finance",
    "provider",
    "other_provider",
    "admin",
    "commissioner",
    "carer",
    "other_carer",
)
# Each column's role (None: no token at all).
ACTOR_ROLES = {
    "anonymous": None,
    "advisor": "advisor",
    "other_advisor": "advisor",
    "holder": "budget_holder",
    "other_holder": "budget_holder",
    "finance": "finance",
    "provider": "provider",
    "other_provider": "provider",
    "admin": "admin",
    "commissioner": "commissioner",
    "carer": "carer",
    "other_carer": "carer",
}
ANSWERS = {
    "ons4.life_satisfaction": 6,
    "ons4.worthwhile": 7,
    "ons4.happy": 6,
    "ons4.anxious": 3,
    "loneliness.how_often": 3,
    "sleep.quality": 6,
}
# Each scheme chooses its instrument set (a children's scheme: a short children's set, or a
# parent's proxy set for a young child), so a check-in is answered in the set it asks.
CHILD_ANSWERS = {
    f"{instrument}.{item}": 3
    for instrument, items in {
        "child_wellbeing": ("happy", "worried", "sleep", "someone_to_talk_to"),
        "parent_view": ("happy", "upset", "sleep", "joining_in"),
    }.items()
    for item in items
}


def answers_for(instruments: list[str]) -> dict[str, Any]:
    """Valid answers to a baseline check-in that asks `instruments`."""
    every = ANSWERS | CHILD_ANSWERS
    return {k: v for k, v in every.items() if k.split(".")[0] in instruments}


BUDGET, DIRECTORY, OUTCOMES = "/api/budget", "/api/directory", "/api/outcomes"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Actor:
    role: str | None
    sub: str | None = None
    provider_id: str | None = None


@dataclass
class Target:
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    find: str | None = None  # the id a listing shows to those who may see it
    raw: str | None = None  # a body sent as text, not JSON
    query: dict[str, str] = field(default_factory=dict)
    read: str | None = None  # where an admin reads the record: a refusal must leave it as it was


class World:
    """Both sides' records, made once per suite through the gateway as the users who make them."""

    def __init__(self, suite: RunningSuite):
        self.suite = suite
        run = uuid.uuid4().hex[:6]
        self.org_a = create_organization(suite)["id"]
        self.org_b = create_organization(suite)["id"]
        self.actors = {
            "anonymous": Actor(None),
            "advisor": Actor("advisor", f"matrix-advisor-{run}"),
            "other_advisor": Actor("advisor", f"matrix-advisor-b-{run}"),
            "holder": Actor("budget_holder", f"matrix-holder-{run}"),
            "other_holder": Actor("budget_holder", f"matrix-holder-b-{run}"),
            "finance": Actor("finance", f"matrix-finance-{run}"),
            "provider": Actor("provider", f"matrix-provider-{run}", self.org_a),
            "other_provider": Actor("provider", f"matrix-provider-b-{run}", self.org_b),
            "admin": Actor("admin", f"matrix-admin-{run}"),
            "commissioner": Actor("commissioner", f"matrix-commissioner-{run}"),
            # a parent of side A's children (under 16), and a parent of side B's
            "carer": Actor("carer", f"matrix-carer-{run}"),
            "other_carer": Actor("carer", f"matrix-carer-b-{run}"),
        }
        listing = create_listing(suite, self.org_a)
        self.listing_id = listing["id"]
        self.cost_option_id = listing["cost_options"][0]["id"]
        self.scheme_a, self.pot_a = self._scheme("holder")
        self.scheme_b, self.pot_b = self._scheme("other_holder")
        self.person_a, self.plan_a, self.goal_a = self._person(self.scheme_a, "advisor")
        self.person_b, _, _ = self._person(self.scheme_b, "other_advisor")

    # --- calling ---------------------------------------------------------------------------

    def call(self, actor: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        who = self.actors[actor]
        return self.suite.api(
            method, path, role=who.role, sub=who.sub, provider_id=who.provider_id, **kwargs
        )

    def made(self, actor: str, method: str, path: str, status: int = 201, **kwargs: Any) -> Any:
        answer = self.call(actor, method, path, **kwargs)
        assert answer.status_code == status, (method, path, answer.status_code, answer.text)
        return answer.json() if answer.content else None

    # --- side A and B ----------------------------------------------------------------------

    def _scheme(self, holder: str) -> tuple[str, str]:
        scheme = self.made("admin", "POST", f"{BUDGET}/schemes", json=self.scheme_body())
        pot = self.made("admin", "POST", f"{BUDGET}/pots", json=self.pot_body(scheme["id"]))
        self.made(
            "admin",
            "POST",
            f"{BUDGET}/assignments",
            json={"scheme_id": scheme["id"], "sub": self.actors[holder].sub},
        )
        return scheme["id"], pot["id"]

    @staticmethod
    def scheme_body() -> dict[str, Any]:
        """A children and young people's scheme (0-25) where a parent may act for a child under
        16; one cap for everyone and no eligibility record, so every side's person is a child."""
        return {
            "name": unique("Matrix scheme"),
            "kind": "children_young_people",
            "cap_pence": 50_000,
            "cap_basis": "scheme",
            "eligibility": "none",
            "min_age": 0,
            "max_age": 25,
        }

    @staticmethod
    def pot_body(scheme_id: str) -> dict[str, Any]:
        return {
            "scheme_id": scheme_id,
            "name": "Grant",
            "funder": "NHS England",
            "amount_pence": 100_000_000,
            "starts_on": "2026-04-01",
        }

    def person_body(self, scheme_id: str) -> dict[str, Any]:
        return {
            "scheme_id": scheme_id,
            "case_reference": unique("LC"),
            "birth_date": "2015-03-14",
            "advisor_sub": self.actors["advisor"].sub,
            "consent_evaluation": True,
            "consent_case_study": True,
        }

    def _person(self, scheme_id: str, advisor: str) -> tuple[str, str, str]:
        body = self.person_body(scheme_id)
        person = self.made(advisor, "POST", f"{BUDGET}/people", json=body)
        carer = self.actors["carer" if advisor == "advisor" else "other_carer"]
        link = {"carer_sub": carer.sub, "relationship": "Parent"}
        self.made(advisor, "POST", f"{BUDGET}/people/{person['id']}/carers", json=link)
        plan = self.made(
            advisor, "POST", f"{BUDGET}/people/{person['id']}/plans", json=self.plan_body()
        )
        return person["id"], plan["id"], plan["goals"][0]["id"]

    @staticmethod
    def plan_body() -> dict[str, Any]:
        return {"needs": "Isolated since moving", "goals": [{"text": "Get out more"}]}

    def request_body(self, person_id: str | None = None, goal_id: str | None = None) -> dict:  # type: ignore[type-arg]
        return {
            "person_id": person_id or self.person_a,
            "goal_id": goal_id or self.goal_a,
            "listing_id": self.listing_id,
            "cost_option_id": self.cost_option_id,
            "submit": True,
        }

    def request(self, state: str, person: tuple[str, str] | None = None) -> dict[str, Any]:
        """A request for side A's person (or `person`: id, goal), raised by its advisor and
        taken to `state` by the holder and finance."""
        person_id, goal_id = person or (self.person_a, self.goal_a)
        body = self.request_body(person_id, goal_id) | {"submit": state != "draft"}
        req = self.made("advisor", "POST", f"{BUDGET}/requests", json=body)
        steps = {
            "draft": [],
            "submitted": [],
            "approved": [("holder", "approve", None)],
            "paid": [
                ("holder", "approve", None),
                ("finance", "pay", {"reference": unique("BACS")}),
            ],
            "evidenced": [
                ("holder", "approve", None),
                ("finance", "pay", {"reference": unique("BACS")}),
                ("advisor", "evidence", {"reference": "Receipt 1"}),
            ],
        }[state]
        for actor, action, body in steps:
            req = self.made(
                actor, "POST", f"{BUDGET}/requests/{req['id']}/{action}", 200, json=body
            )
        assert req["state"] == state, req
        return dict(req)

    def package_body(self, person_id: str | None = None, goal_id: str | None = None) -> dict:  # type: ignore[type-arg]
        return {
            "person_id": person_id or self.person_a,
            "goal_id": goal_id or self.goal_a,
            "listing_id": self.listing_id,
            "cost_option_id": self.cost_option_id,
            "frequency": "monthly",
            "instalments": 3,
        }

    def package(self) -> str:
        """An ongoing package for a young person of side A, set up by their advisor."""
        person_id, _, goal_id = self.fresh_person()
        body = self.package_body(person_id, goal_id)
        return str(self.made("advisor", "POST", f"{BUDGET}/packages", json=body)["id"])

    def etag(self, path: str) -> str:
        answer = self.call("admin", "GET", path)
        assert answer.status_code == 200, answer.text
        return answer.headers["ETag"]

    def fresh_person(self) -> tuple[str, str, str]:
        return self._person(self.scheme_a, "advisor")

    def person_with_record(self) -> str:
        """A young person of side A with a section 117 aftercare record."""
        record = {
            "basis": "section_117",
            "mha_section": "3",
            "aftercare_plan_date": "2026-01-15",
            "responsible_nhs_body": "Fictional ICB",
            "responsible_council": "Fictional Council",
            "next_review_on": (date.today() + timedelta(days=200)).isoformat(),
        }
        body = self.person_body(self.scheme_a) | {"eligibility": record}
        return str(self.made("advisor", "POST", f"{BUDGET}/people", json=body)["id"])

    def child(self) -> str:
        """A child under 16 of side A (every side's scheme lets a parent act)."""
        return self.fresh_person()[0]

    def carer_link(self) -> tuple[str, str]:
        child = self.child()
        body = {"carer_sub": unique("carer"), "relationship": "Mother"}
        link = self.made("advisor", "POST", f"{BUDGET}/people/{child}/carers", json=body)
        return child, str(link["id"])

    def checkin(self) -> dict[str, Any]:
        """A young person of side A with an approved request: the baseline check-in the
        outcomes service makes from the budget's events (relayed for real)."""
        person_id, _, goal_id = self.fresh_person()
        self.request("approved", (person_id, goal_id))
        deadline = time.monotonic() + RELAY_WAIT
        while time.monotonic() < deadline:
            answer = self.call("admin", "GET", f"{OUTCOMES}/people/{person_id}/checkins")
            if answer.status_code == 200 and answer.json()["checkins"]:
                return dict(answer.json()["checkins"][0])
            time.sleep(0.1)
        raise AssertionError(f"no check-in for {person_id}")

    def outcome_settings_etag(self, scheme_id: str) -> str:
        """The ETag of a scheme's outcome settings, once outcomes has heard of the scheme (the
        budget's scheme.changed event, relayed for real)."""
        path = f"{OUTCOMES}/schemes/{scheme_id}/outcome-settings"
        deadline = time.monotonic() + RELAY_WAIT
        while time.monotonic() < deadline:
            answer = self.call("admin", "GET", path)
            if answer.status_code == 200 and answer.json()["scheme"]:
                return answer.headers["ETag"]
            time.sleep(0.1)
        raise AssertionError(f"outcomes never heard of scheme {scheme_id}")

    def feedback_token(self, checkin_id: str) -> str:
        link = self.made("advisor", "POST", f"{OUTCOMES}/checkins/{checkin_id}/link")
        return str(link["token"])

    def case_study(self) -> str:
        checkin = self.checkin()
        body = {
            "person_id": checkin["person_id"],
            "title": "A good year",
            "story": "Went every week and made friends.",
        }
        return str(self.made("advisor", "POST", f"{OUTCOMES}/case-studies", json=body)["id"])

    def search_id(self) -> str:
        """A search by side A's advisor: only they may mark it as funded."""
        answer = self.call("advisor", "GET", f"{DIRECTORY}/search", params={"q": "gym"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["search_id"], answer.text
        return str(answer.json()["search_id"])


Builder = Callable[[World], Target]


def _listing(w: World) -> Target:
    listing = create_listing(w.suite, w.org_a)
    return Target(
        params={"listing_id": listing["id"]},
        headers={"If-Match": listing["_etag"]},
        find=listing["id"],
        read=f"{DIRECTORY}/listings/{listing['id']}",
    )


def _listing_put(w: World) -> Target:
    target = _listing(w)
    target.body = listing_body()
    return target


def _listing_patch(w: World) -> Target:
    target = _listing(w)
    target.body = {"name": unique("Renamed activity")}
    return target


def _request(state: str, body: Any = None) -> Builder:
    def build(w: World) -> Target:
        req = w.request(state)
        return Target(
            params={"request_id": req["id"]},
            body=body,
            find=req["id"],
            read=f"{BUDGET}/requests/{req['id']}",
        )

    return build


def _payment_run(body: Any = None) -> Builder:
    """A run finance made of one approved request of a fresh young person of side A."""

    def build(w: World) -> Target:
        person_id, _, goal_id = w.fresh_person()
        req = w.request("approved", (person_id, goal_id))
        run = w.made("finance", "POST", f"{BUDGET}/payment-runs", json={"request_ids": [req["id"]]})
        return Target(
            params={"run_id": run["id"]},
            body=body,
            find=run["id"],
            read=f"{BUDGET}/payment-runs/{run['id']}",
        )

    return build


_BOUNDARY = "phb-matrix-boundary"
_RECEIPT = (
    f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nreceipt\r\n'
    f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="receipt.pdf"\r\n'
    f"Content-Type: application/pdf\r\n\r\n%PDF-1.4 a receipt\r\n--{_BOUNDARY}--\r\n"
)


def _document_upload(w: World) -> Target:
    """A receipt to upload for an approved request of a fresh young person of side A."""
    person_id, _, goal_id = w.fresh_person()
    req = w.request("approved", (person_id, goal_id))
    return Target(
        params={"request_id": req["id"]},
        raw=_RECEIPT,
        headers={"Content-Type": f"multipart/form-data; boundary={_BOUNDARY}"},
    )


def _document(w: World) -> Target:
    upload = _document_upload(w)
    path = f"{BUDGET}/requests/{upload.params['request_id']}/documents"
    made = w.made("advisor", "POST", path, data=upload.raw, headers=upload.headers)
    return Target(params={**upload.params, "document_id": made["id"]}, find=made["id"])


def _new_payment_run(w: World) -> Target:
    person_id, _, goal_id = w.fresh_person()
    return Target(body={"request_ids": [w.request("approved", (person_id, goal_id))["id"]]})


def _person(w: World, body: Any = None) -> Target:
    person_id, _, _ = w.fresh_person()
    return Target(
        params={"person_id": person_id},
        body=body,
        find=person_id,
        read=f"{BUDGET}/people/{person_id}",
    )


def _plan(w: World) -> Target:
    _, plan_id, _ = w.fresh_person()
    return Target(
        params={"plan_id": plan_id},
        body={"needs": "Wants to meet people"},
        headers={"If-Match": w.etag(f"{BUDGET}/plans/{plan_id}")},
        find=plan_id,
        read=f"{BUDGET}/plans/{plan_id}",
    )


def _assignment(w: World) -> Target:
    body = {"scheme_id": w.scheme_a, "sub": unique("holder")}
    assignment = w.made("admin", "POST", f"{BUDGET}/assignments", json=body)
    return Target(params={"assignment_id": assignment["id"]}, find=assignment["id"])


def _checkin(body: Any = None) -> Builder:
    def build(w: World) -> Target:
        checkin = w.checkin()
        return Target(
            params={"checkin_id": checkin["id"]},
            body=_answered(body, checkin),
            find=checkin["id"],
            read=f"{OUTCOMES}/checkins/{checkin['id']}",
        )

    return build


def _feedback(body: Any = None) -> Builder:
    def build(w: World) -> Target:
        checkin = w.checkin()
        token = w.feedback_token(checkin["id"])
        return Target(params={"token": token}, body=_answered(body, checkin))

    return build


def _answered(body: Any, checkin: dict[str, Any]) -> Any:
    """`{"answers": ANSWERS}` means answers to whatever set this check-in asks."""
    if isinstance(body, dict) and body.get("answers") is ANSWERS:
        return {"answers": answers_for(checkin["instruments"])}
    return body


def _outcome_settings(w: World) -> Target:
    """Side A's scheme's outcome settings: the children's sets and bands, chosen again."""
    path = f"{OUTCOMES}/schemes/{w.scheme_a}/outcome-settings"
    return Target(
        params={"scheme_id": w.scheme_a},
        body=OUTCOME_SETTINGS,
        headers={"If-Match": w.outcome_settings_etag(w.scheme_a)},
        read=path,
    )


def _fresh_outcome_settings(w: World) -> Target:
    """A scheme of its own (outcomes has heard of it), so each admin's change starts clean."""
    scheme = w.made("admin", "POST", f"{BUDGET}/schemes", json=w.scheme_body())
    path = f"{OUTCOMES}/schemes/{scheme['id']}/outcome-settings"
    return Target(
        params={"scheme_id": scheme["id"]},
        body=OUTCOME_SETTINGS,
        headers={"If-Match": w.outcome_settings_etag(scheme["id"])},
        read=path,
    )


OUTCOME_SETTINGS = {
    "instrument_set": "children",
    "proxy_set": "parent-proxy",
    "proxy_below_age": 8,
    "age_bands": ["0-10", "11-15", "16-25"],
}


def _import(w: World) -> Target:
    """A feed of side A's own organisation, as the export writes it: re-importing changes nothing."""
    answer = w.call("admin", "GET", f"{DIRECTORY}/export")
    assert answer.status_code == 200, answer.text
    line = next(line for line in answer.text.splitlines() if w.org_a in line)
    return Target(raw=line + "\n", headers={"Content-Type": "application/x-ndjson"})


def _events(w: World) -> Target:
    event = {
        "id": str(uuid.uuid4()),
        "topic": "person.consent_changed",
        "payload": {
            "person_id": w.person_a,
            "consent_evaluation": False,
            "consent_case_study": False,
        },
        "occurred_at": "2026-11-24T10:00:00+00:00",
    }
    return Target(body={"events": [event]})


def _checked_on(w: World) -> str:
    return (date.today() + timedelta(days=365)).isoformat()


def _oruk(collection: str, param: str, mine: bool = True) -> Builder:
    """An ORUK record from its public list: side A's own (its organisation or listing), or the
    first one (taxonomies and terms belong to no one)."""

    def build(w: World) -> Target:
        answer = w.call(
            "anonymous", "GET", f"{DIRECTORY}/oruk/{collection}", params={"per_page": 100}
        )
        assert answer.status_code == 200, answer.text
        items = answer.json()["contents"]
        wanted = (w.org_a, w.listing_id)
        found = next(i for i in items if not mine or any(x in str(i) for x in wanted))
        return Target(params={param: found["id"]})

    return build


def _cohort_body(w: World) -> dict[str, Any]:
    return {
        "scheme_id": w.scheme_a,
        "period_start": "2026-04-01",
        "period_end": "2027-03-31",
        "size": 120,
    }


def _cohort_size(w: World) -> Target:
    cohort = w.made("admin", "PUT", f"{BUDGET}/cohort-sizes", 200, json=_cohort_body(w))
    return Target(find=cohort["id"])


PERIOD = {"from": "2026-04-01", "to": "2027-03-31"}


# What each operation acts on: the names the policy table's `on` uses.
BUILDERS: dict[str, Builder] = {
    "nothing": lambda w: Target(),
    "period": lambda w: Target(query=dict(PERIOD)),
    "cohort_size": _cohort_size,
    "new_cohort_size": lambda w: Target(body=_cohort_body(w)),
    # budget
    "scheme": lambda w: Target(params={"scheme_id": w.scheme_a}, find=w.scheme_a),
    "scheme_edit": lambda w: (
        lambda scheme: Target(
            params={"scheme_id": scheme["id"]},
            body={"name": scheme["name"], "cap_pence": 40_000},
            headers={"If-Match": w.etag(f"{BUDGET}/schemes/{scheme['id']}")},
        )
    )(w.made("admin", "POST", f"{BUDGET}/schemes", json=w.scheme_body())),
    "new_scheme": lambda w: Target(body=w.scheme_body()),
    "new_package": lambda w: Target(body=w.package_body()),
    "package": lambda w: (lambda package: Target(params={"package_id": package}, find=package))(
        w.package()
    ),
    "package_end": lambda w: Target(
        params={"package_id": w.package()}, body={"reason": "Stopped going"}
    ),
    "instalment": lambda w: Target(
        params={"package_id": w.package(), "number": "1"}, body={"reference": unique("BACS")}
    ),
    "assignment": _assignment,
    "new_assignment": lambda w: Target(body={"scheme_id": w.scheme_a, "sub": unique("holder")}),
    "pot": lambda w: Target(params={"pot_id": w.pot_a}, find=w.pot_a),
    "new_pot": lambda w: Target(body=w.pot_body(w.scheme_a)),
    "person": lambda w: Target(params={"person_id": w.person_a}, find=w.person_a),
    "new_person": lambda w: Target(body=w.person_body(w.scheme_a)),
    "reassign": lambda w: _person(w, {"advisor_sub": unique("advisor")}),
    "transfer": lambda w: Target(
        params={"person_id": w.fresh_person()[0]},
        body={"to_council": "Fictional Borough Council", "reason": "Moved away"},
    ),
    "eligibility_review": lambda w: Target(
        params={"person_id": w.person_with_record()},
        body={
            "reviewed_on": date.today().isoformat(),
            "continues": True,
            "next_review_on": (date.today() + timedelta(days=365)).isoformat(),
        },
    ),
    "new_carer_link": lambda w: Target(
        params={"person_id": w.child()},
        body={"carer_sub": unique("carer"), "relationship": "Father"},
    ),
    "carer_link": lambda w: (
        lambda made: Target(params={"person_id": made[0], "link_id": made[1]})
    )(w.carer_link()),
    "consent": lambda w: _person(w, {"consent_evaluation": True, "consent_case_study": False}),
    "new_plan": lambda w: (
        lambda person: Target(
            params={"person_id": person["id"]}, body=w.plan_body(), find=person["id"]
        )
    )(w.made("advisor", "POST", f"{BUDGET}/people", json=w.person_body(w.scheme_a))),
    "plan": lambda w: Target(params={"plan_id": w.plan_a}, find=w.plan_a),
    "plan_edit": _plan,
    "new_request": lambda w: Target(body=w.request_body()),
    "request": _request("submitted"),
    "draft_request": _request("draft"),
    "submitted_request": _request("submitted", {"reason": "Not this time"}),
    "approval": _request("submitted", {}),
    "approved_request": _request("approved", {"reason": "Not needed now"}),
    "order": _request("approved", {"reference": "PO-1"}),
    "payment": _request("approved", {"reference": "BACS-1"}),
    "evidence": _request("paid", {"reference": "Receipt 2"}),
    "evidenced_request": _request("evidenced"),
    "recovery": _request("paid", {"amount_pence": 100, "reason": "Refunded a session"}),
    "approved_payment_run": _request("approved"),
    "paid_request": _request("paid"),
    "payment_run": _payment_run(),
    "payment_run_paid": _payment_run({}),
    "payment_run_cancel": _payment_run({"reason": "Wrong month"}),
    "new_payment_run": _new_payment_run,
    "document_upload": _document_upload,
    "document": _document,
    # directory
    "listing": _listing,
    "listing_put": _listing_put,
    "listing_patch": _listing_patch,
    "new_listing": lambda w: Target(body=listing_body(organization_id=w.org_a)),
    "organization": lambda w: Target(params={"provider_id": w.org_a}, find=w.org_a),
    "new_organization": lambda w: Target(body={"name": unique("Fictional Provider")}),
    "due_diligence": lambda w: Target(
        params={"provider_id": w.org_a},
        body={"kind": "dbs", "expires_on": _checked_on(w), "reference": "DBS-1"},
    ),
    "search": lambda w: Target(params={"search_id": w.search_id()}),
    "import": _import,
    "oruk_service": _oruk("services", "service_id"),
    "oruk_taxonomy": _oruk("taxonomies", "taxonomy_id", mine=False),
    "oruk_term": _oruk("taxonomy_terms", "term_id", mine=False),
    "oruk_organization": _oruk("organizations", "organization_id"),
    "oruk_sal": _oruk("service_at_locations", "sal_id"),
    # outcomes
    "checkin": _checkin(),
    # The list pages by due date: narrowed to the target's young person, so other check-ins the
    # matrix makes cannot push the target off the first page.
    "listed_checkin": lambda w: (
        lambda checkin: Target(query={"person_id": checkin["person_id"]}, find=checkin["id"])
    )(w.checkin()),
    "answers": _checkin({"answers": ANSWERS}),
    "observation": _checkin({"text": "Seen at the club."}),
    "person_checkins": lambda w: (
        lambda checkin: Target(params={"person_id": checkin["person_id"]}, find=checkin["id"])
    )(w.checkin()),
    "feedback": _feedback(),
    "feedback_answers": _feedback({"answers": ANSWERS}),
    "new_case_study": lambda w: Target(
        body={
            "person_id": w.checkin()["person_id"],
            "title": "A year",
            "story": "Went every week and made friends.",
        }
    ),
    "case_study": lambda w: (lambda study: Target(params={"study_id": study}, find=study))(
        w.case_study()
    ),
    "events": _events,
    "instrument": lambda w: Target(params={"instrument_id": "ons4"}),
    "outcome_settings": _outcome_settings,
    "outcome_settings_put": _fresh_outcome_settings,
    "rating": lambda w: Target(params={"provider_id": w.org_a}),
}
