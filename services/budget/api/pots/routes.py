"""Funding pots: added by admins, their money entering the ledger; read by staff."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.common import IDEMPOTENCY_DOC, money_call
from services.budget.api.pots.schemas import PotSchema
from services.budget.service_layer import schemes as svc
from services.budget.service_layer.commands import CreatePot
from shared.app import current_identity, database, records_token_with_write

blp = Blueprint("pots", __name__, url_prefix="/pots", description="Funding pots.")


@blp.route("")
class Pots(MethodView):
    @blp.response(200, PotSchema(many=True))
    def get(self):
        """List funding pots with what is allocated (staff)"""
        return svc.list_pots(database(), current_identity())

    @blp.arguments(PotSchema)
    @blp.response(201, PotSchema)
    @blp.doc(**IDEMPOTENCY_DOC)
    @records_token_with_write
    def post(self, values):
        """Add a funding pot (admin); its money enters the ledger"""
        actor = current_identity()

        def work(uow):
            pot = svc.create_pot(CreatePot(actor=actor, **values), uow)
            return PotSchema().dump(svc.get_pot(database(), actor, pot.id))

        return money_call(work, 201, PotSchema().dump)


@blp.route("/<pot_id>")
class PotById(MethodView):
    @blp.response(200, PotSchema)
    def get(self, pot_id):
        """One pot"""
        return svc.get_pot(database(), current_identity(), pot_id)
