"""Schemes and funding pots: configuration, for admins."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.common import IDEMPOTENCY_DOC, money_call
from services.budget.api.schemas import PotSchema, SchemePatchSchema, SchemeSchema
from services.budget.service_layer import schemes as svc
from shared.app import current_identity, database
from shared.errors import NotFound

blp = Blueprint(
    "schemes", __name__, url_prefix="/schemes", description="PHB schemes (configuration)."
)
pots = Blueprint("pots", __name__, url_prefix="/pots", description="Funding pots.")


@blp.route("")
class Schemes(MethodView):
    @blp.response(200, SchemeSchema(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        """List schemes"""
        current_identity()
        return svc.list_schemes(database())

    @blp.arguments(SchemeSchema)
    @blp.response(201, SchemeSchema)
    def post(self, values):  # type: ignore[no-untyped-def]
        """Create a scheme (admin)"""
        return svc.create_scheme(database(), current_identity(), values)


@blp.route("/<scheme_id>")
class SchemeById(MethodView):
    @blp.response(200, SchemeSchema)
    def get(self, scheme_id):  # type: ignore[no-untyped-def]
        """One scheme"""
        current_identity()
        for scheme in svc.list_schemes(database()):
            if scheme.id == scheme_id:
                return scheme
        raise NotFound("No scheme with that id.")

    @blp.arguments(SchemePatchSchema)
    @blp.response(200, SchemeSchema)
    def patch(self, values, scheme_id):  # type: ignore[no-untyped-def]
        """Change a scheme's settings (admin; audited)"""
        return svc.update_scheme(database(), current_identity(), scheme_id, values)


@pots.route("")
class Pots(MethodView):
    @pots.response(200, PotSchema(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        """List funding pots with what is allocated (staff)"""
        return svc.list_pots(database(), current_identity())

    @pots.arguments(PotSchema)
    @pots.response(201, PotSchema)
    @pots.doc(**IDEMPOTENCY_DOC)
    def post(self, values):  # type: ignore[no-untyped-def]
        """Add a funding pot (admin); its money enters the ledger"""
        actor = current_identity()

        def work():  # type: ignore[no-untyped-def]
            pot = svc.create_pot(database(), actor, values)
            return PotSchema().dump(svc.get_pot(database(), actor, pot.id))

        return money_call(work, 201)


@pots.route("/<pot_id>")
class PotById(MethodView):
    @pots.response(200, PotSchema)
    def get(self, pot_id):  # type: ignore[no-untyped-def]
        """One pot"""
        return svc.get_pot(database(), current_identity(), pot_id)
