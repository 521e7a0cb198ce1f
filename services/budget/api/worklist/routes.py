"""The advisor's worklist: plan reviews, requests sent back, people ageing out, activities not started."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.worklist.schemas import WorklistQueryArgsSchema, WorklistSchema
from services.budget.service_layer import worklist as svc
from shared.app import current_identity, database
from shared.clock import today

blp = Blueprint(
    "worklist",
    __name__,
    url_prefix="/worklist",
    description="What is due on the caller's young people, most late first.",
)


@blp.route("")
class Worklist(MethodView):
    @blp.arguments(WorklistQueryArgsSchema, location="query")
    @blp.response(200, WorklistSchema)
    def get(self, args):
        """What is due on the caller's young people (an advisor: their caseload), most late first"""
        return svc.worklist(database(), current_identity(), today(), args.get("kind"))
