"""`POST /events`: events from the budget service, applied once each."""

from flask.views import MethodView
from flask_smorest import Blueprint

from services.outcomes.api.events.schemas import (
    EventReceiptSchema,
    EventSchema,
    ReplayQueryArgsSchema,
    ReplayResultSchema,
)
from services.outcomes.registry import outcomes_services
from services.outcomes.service_layer import events
from services.outcomes.service_layer.commands import ReceiveEvent, ReplayEvents
from shared.app import require_role

blp = Blueprint("events", __name__, url_prefix="/events", description="Events from other services.")


@blp.route("")
class Events(MethodView):
    @blp.arguments(EventSchema)
    @blp.response(202, EventReceiptSchema)
    def post(self, event):
        """Receive one event (deduplicated by its id)"""
        require_role("service")
        app = outcomes_services()
        status = events.receive(ReceiveEvent.of(event), app.uow, app.instruments)
        return {"id": str(event["id"]), "status": status}


@blp.route("/replay")
class Replay(MethodView):
    @blp.arguments(ReplayQueryArgsSchema, location="query")
    @blp.response(200, ReplayResultSchema)
    def post(self, args):
        """Re-apply kept events: those held for an earlier one, or all (admin)"""
        require_role("admin")
        cmd = ReplayEvents(everything=args["everything"])
        return events.replay(cmd, outcomes_services().uow, outcomes_services().instruments)
