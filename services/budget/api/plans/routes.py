"""Health and wellbeing plans: made with the young person, changed at reviews (If-Match required)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.plans.schemas import PlanPatchSchema, PlanSchema
from services.budget.service_layer import plans as svc
from services.budget.service_layer.commands import ChangePlan, CreatePlan, PlanGoal
from services.budget.service_layer.unit_of_work import as_uow
from shared.app import current_identity, database, records_token_with_write
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
    @records_token_with_write
    def post(self, values, person_id):
        """Make the plan: needs, goals in their own words, ideas, the first review date"""
        cmd = CreatePlan(actor=current_identity(), person_id=person_id, **_with_goals(values))
        return _with_etag(svc.create_plan(cmd, as_uow(database())))


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
    @records_token_with_write
    def patch(self, values, plan_id):
        """Change the plan (a review); send If-Match with its ETag"""
        cmd = ChangePlan(
            actor=current_identity(),
            plan_id=plan_id,
            if_match=request.headers.get("If-Match"),
            **_with_goals(values),
        )
        return _with_etag(svc.change_plan(cmd, as_uow(database())))


def _with_goals(values: dict[str, Any]) -> dict[str, Any]:
    """The plan's fields, its goals (when given) as the command's goals."""
    if "goals" not in values:
        return values
    goals = tuple(PlanGoal(text=g["text"], id=g.get("id") or None) for g in values["goals"])
    return values | {"goals": goals}
