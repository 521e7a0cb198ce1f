"""Young people (pseudonymous): enrolment, caseloads, consent."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.common import IDEMPOTENCY_DOC, money_call
from services.budget.api.people.schemas import (
    CarerLinkSchema,
    ConsentSchema,
    EligibilityReviewSchema,
    EligibilitySchema,
    FamilyViewSchema,
    LedgerMovementSchema,
    PersonPageSchema,
    PersonQueryArgsSchema,
    PersonSchema,
    ReassignmentSchema,
    TransferRecordSchema,
    TransferResultSchema,
    TransferSchema,
)
from services.budget.service_layer import carers as carer_svc
from services.budget.service_layer import eligibility as eligibility_svc
from services.budget.service_layer import family_view
from services.budget.service_layer import people as svc
from services.budget.service_layer import transfers as transfer_svc
from services.budget.service_layer.commands import (
    ChangeConsent,
    EnrolPerson,
    FundingPart,
    ReassignPerson,
)
from services.budget.service_layer.unit_of_work import as_uow
from shared import clock
from shared.app import current_identity, database, records_token_with_write
from shared.identity import Identity

blp = Blueprint("people", __name__, url_prefix="/people", description="Young people on a scheme.")


@blp.route("")
class People(MethodView):
    @blp.arguments(PersonQueryArgsSchema, location="query")
    @blp.response(200, PersonPageSchema)
    def get(self, args):
        """Young people the caller may see (an advisor: their own caseload)"""
        page = svc.list_people(
            database(), current_identity(), args["page"], args["per_page"], args.get("advisor_sub")
        )
        return page.envelope()

    @blp.arguments(PersonSchema)
    @blp.response(201, PersonSchema)
    @blp.doc(**IDEMPOTENCY_DOC)
    @records_token_with_write
    def post(self, values):
        """Enrol a young person; their allocation is drawn from a pot"""
        actor = current_identity()

        def work(uow):
            person = svc.enrol_person(_enrolment(actor, values), uow)
            return PersonSchema().dump(svc.get_person(database(), actor, person.id))

        return money_call(work, 201, PersonSchema().dump)


def _enrolment(actor: Identity, values: dict[str, Any]) -> EnrolPerson:
    rest = {name: value for name, value in values.items() if name != "funding"}
    funding = tuple(FundingPart(**part) for part in values.get("funding") or ())
    return EnrolPerson(actor=actor, funding=funding, **rest)


@blp.route("/<person_id>")
class PersonById(MethodView):
    @blp.response(200, PersonSchema)
    def get(self, person_id):
        """One young person, with their budget"""
        return svc.get_person(database(), current_identity(), person_id)


@blp.route("/<person_id>/reassign")
class Reassign(MethodView):
    @blp.arguments(ReassignmentSchema)
    @blp.response(200, PersonSchema)
    @records_token_with_write
    def post(self, values, person_id):
        """Move a young person to another advisor's caseload (audited)"""
        actor = current_identity()
        cmd = ReassignPerson(actor=actor, person_id=person_id, advisor_sub=values["advisor_sub"])
        svc.reassign_person(cmd, as_uow(database()))
        return svc.get_person(database(), actor, person_id)


@blp.route("/<person_id>/consent")
class Consent(MethodView):
    @blp.arguments(ConsentSchema)
    @blp.response(200, PersonSchema)
    @records_token_with_write
    def put(self, values, person_id):
        """Record the young person's consent choices"""
        actor = current_identity()
        svc.change_consent(
            ChangeConsent(actor=actor, person_id=person_id, **values), as_uow(database())
        )
        return svc.get_person(database(), actor, person_id)


@blp.route("/<person_id>/transfer")
class Transfer(MethodView):
    @blp.arguments(TransferSchema)
    @blp.response(200, TransferResultSchema)
    @blp.doc(**IDEMPOTENCY_DOC)
    @records_token_with_write
    def post(self, values, person_id):
        """Move the person to another scheme (or council): plan and history go with them; what is
        left is returned or carried over by the old scheme's rule"""
        actor = current_identity()

        def work(uow):
            moved = transfer_svc.transfer_person(uow, actor, person_id, values)
            return TransferResultSchema().dump(moved)

        return money_call(work, 200, TransferResultSchema().dump)


@blp.route("/<person_id>/transfers")
class Transfers(MethodView):
    @blp.response(200, TransferRecordSchema(many=True))
    def get(self, person_id):
        """The person's moves between schemes, oldest first"""
        return transfer_svc.transfers_of(database(), current_identity(), person_id)


@blp.route("/<person_id>/ledger")
class MoneyHistory(MethodView):
    @blp.response(200, LedgerMovementSchema(many=True))
    def get(self, person_id):
        """Every movement of the person's money, oldest first, on every scheme they have been on"""
        return transfer_svc.history_of(database(), current_identity(), person_id)


@blp.route("/<person_id>/eligibility/reviews")
class EligibilityReviews(MethodView):
    @blp.arguments(EligibilityReviewSchema)
    @blp.response(201, EligibilitySchema)
    @records_token_with_write
    def post(self, values, person_id):
        """Record an aftercare (or annual) review: eligibility continues to a next review, or ends"""
        return eligibility_svc.review_eligibility(
            database(), current_identity(), person_id, values, today=clock.today()
        )


@blp.route("/<person_id>/family-view")
class FamilyView(MethodView):
    @blp.response(200, FamilyViewSchema)
    def get(self, person_id):
        """The budget as the young person or their parent or carer sees it, by its budget type"""
        return family_view.what_the_family_sees(database(), current_identity(), person_id)


@blp.route("/<person_id>/carers")
class Carers(MethodView):
    @blp.response(200, CarerLinkSchema(many=True))
    def get(self, person_id):
        """The child's parents and carers who may act for them (a carer sees their own link)"""
        return carer_svc.carers_of(database(), current_identity(), person_id)

    @blp.arguments(CarerLinkSchema)
    @blp.response(201, CarerLinkSchema)
    @records_token_with_write
    def post(self, values, person_id):
        """Link a parent or carer to a child under 16 (the child's advisor or an admin; audited)"""
        return carer_svc.link_carer(
            database(), current_identity(), person_id, values, today=clock.today()
        )


@blp.route("/<person_id>/carers/<link_id>")
class CarerById(MethodView):
    @blp.response(204)
    @records_token_with_write
    def delete(self, person_id, link_id):
        """Remove a parent or carer's link (audited)"""
        carer_svc.unlink_carer(database(), current_identity(), person_id, link_id)
