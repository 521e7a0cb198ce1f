"""Health and wellbeing plans: made with the young person, changed at reviews (If-Match required)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.plans.schemas import PlanPatchSchema, PlanSchema
from services.budget.service_layer import plans as svc
from shared.app import current_identity, database
from shared.concurrency import etag
from shared.openapi import if_match

blp = Blueprint("plans", __name__, url_prefix="", description="Health and wellbeing plans.")


def _with_etag(plan: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    return plan, {"ETag": etag(plan["id"], plan["version"])}


@blp.route("/people/<person_id>/plans")
class PersonPlans(MethodView):
    @blp.response(200, PlanSchema(many=True))
    def get(self, person_id):
        """The young person's plan(s)"""
        return svc.plans_of(database(), current_identity(), person_id)

    @blp.arguments(PlanSchema)
    @blp.response(201, PlanSchema)
    def post(self, values, person_id):
        """Make the plan: needs, goals in their own words, ideas, the first review date"""
        return _with_etag(svc.create_plan(database(), current_identity(), person_id, values))


@blp.route("/plans/<plan_id>")
class PlanById(MethodView):
    @blp.response(200, PlanSchema)
    def get(self, plan_id):
        """One plan, with its ETag"""
        return _with_etag(svc.get_plan(database(), current_identity(), plan_id))

    @blp.arguments(PlanPatchSchema)
    @blp.response(200, PlanSchema)
    @blp.alt_response(412, description="The plan changed since you read it")
    @blp.alt_response(428, description="If-Match missing")
    @blp.doc(**if_match("plan"))
    def patch(self, values, plan_id):
        """Change the plan (a review); send If-Match with its ETag"""
        plan = svc.change_plan(
            database(),
            current_identity(),
            plan_id,
            values,
            if_match=request.headers.get("If-Match"),
        )
        return _with_etag(plan)
