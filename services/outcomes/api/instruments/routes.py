"""The instruments this service knows: items, scales, scoring, bands and licences."""

from flask.views import MethodView
from flask_smorest import Blueprint

from services.outcomes.api.instruments.schemas import InstrumentSchema
from services.outcomes.domain import instruments
from services.outcomes.registry import outcomes_services
from shared.app import require_role
from shared.errors import NotFound

blp = Blueprint(
    "instruments", __name__, url_prefix="/instruments", description="Wellbeing instruments."
)


@blp.route("")
class Instruments(MethodView):
    @blp.response(200, InstrumentSchema(many=True))
    def get(self):
        """Every instrument, with its licence and attribution"""
        require_role("advisor", "admin", "budget_holder")
        return [
            instruments.describe(i) for i in outcomes_services().instruments.instruments.values()
        ]


@blp.route("/<string:instrument_id>")
class Instrument(MethodView):
    @blp.response(200, InstrumentSchema)
    def get(self, instrument_id):
        """One instrument"""
        require_role("advisor", "admin", "budget_holder")
        found = outcomes_services().instruments.instruments.get(instrument_id)
        if found is None:
            raise NotFound("There is no instrument with that id.")
        return instruments.describe(found)
