"""Health and wellbeing plans: made with the young person, changed at reviews."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.plans.schemas import PlanPatchSchema, PlanSchema
from services.budget.service_layer import people as svc
from shared.app import current_identity, database

blp = Blueprint("plans", __name__, url_prefix="", description="Health and wellbeing plans.")


@blp.route("/people/<person_id>/plans")
class PersonPlans(MethodView):
    @blp.response(200, PlanSchema(many=True))
    def get(self, person_id):  # type: ignore[no-untyped-def]
        """The young person's plan(s)"""
        return svc.plans_of(database(), current_identity(), person_id)

    @blp.arguments(PlanSchema)
    @blp.response(201, PlanSchema)
    def post(self, values, person_id):  # type: ignore[no-untyped-def]
        """Make the plan: needs, goals in their own words, ideas, the first review date"""
        return svc.create_plan(database(), current_identity(), person_id, values)


@blp.route("/plans/<plan_id>")
class PlanById(MethodView):
    @blp.response(200, PlanSchema)
    def get(self, plan_id):  # type: ignore[no-untyped-def]
        """One plan"""
        return svc.get_plan(database(), current_identity(), plan_id)

    @blp.arguments(PlanPatchSchema)
    @blp.response(200, PlanSchema)
    def patch(self, values, plan_id):  # type: ignore[no-untyped-def]
        """Change the plan (a review); send `version` to refuse overwriting someone else's change"""
        version = values.pop("version", None)
        return svc.change_plan(database(), current_identity(), plan_id, values, if_version=version)
