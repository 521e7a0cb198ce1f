"""Young people (pseudonymous): enrolment, caseloads, consent."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.common import IDEMPOTENCY_DOC, money_call
from services.budget.api.people.schemas import (
    ConsentSchema,
    PersonPageSchema,
    PersonQueryArgsSchema,
    PersonSchema,
    ReassignmentSchema,
)
from services.budget.service_layer import people as svc
from shared.app import current_identity, database

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
    def post(self, values):
        """Enrol a young person; their allocation is drawn from a pot"""
        actor = current_identity()

        def work(uow):
            person = svc.enrol_person(uow, actor, values)
            return PersonSchema().dump(svc.get_person(database(), actor, person.id))

        return money_call(work, 201, PersonSchema().dump)


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
    def post(self, values, person_id):
        """Move a young person to another advisor's caseload (audited)"""
        actor = current_identity()
        svc.reassign_person(database(), actor, person_id, values["advisor_sub"])
        return svc.get_person(database(), actor, person_id)


@blp.route("/<person_id>/consent")
class Consent(MethodView):
    @blp.arguments(ConsentSchema)
    @blp.response(200, PersonSchema)
    def put(self, values, person_id):
        """Record the young person's consent choices"""
        actor = current_identity()
        svc.change_consent(database(), actor, person_id, values)
        return svc.get_person(database(), actor, person_id)
