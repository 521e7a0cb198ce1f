"""`POST /events`: events from the budget service, applied once each."""

from flask.views import MethodView
from flask_smorest import Blueprint

from services.outcomes.api.events.schemas import EventReceiptSchema, EventSchema
from services.outcomes.service_layer import events
from shared.app import database, require_role

blp = Blueprint("events", __name__, url_prefix="/events", description="Events from other services.")


@blp.route("")
class Events(MethodView):
    @blp.arguments(EventSchema)
    @blp.response(202, EventReceiptSchema)
    def post(self, event):
        """Receive one event (deduplicated by its id)"""
        require_role("service")
        status = events.receive(database(), event)
        return {"id": str(event["id"]), "status": status}
