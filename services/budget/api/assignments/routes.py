"""Which budget holders act on which schemes, managed by admins."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.assignments.schemas import AssignmentQueryArgsSchema, AssignmentSchema
from services.budget.service_layer import schemes as svc
from services.budget.service_layer.commands import AssignHolder, UnassignHolder
from services.budget.service_layer.unit_of_work import as_uow
from shared.app import current_identity, database, records_token_with_write

blp = Blueprint(
    "assignments",
    __name__,
    url_prefix="/assignments",
    description="Budget holders' schemes: no assignment, nothing visible.",
)


@blp.route("")
class Assignments(MethodView):
    @blp.arguments(AssignmentQueryArgsSchema, location="query")
    @blp.response(200, AssignmentSchema(many=True))
    def get(self, args):
        """Assignments (admin: all; a budget holder: their own)"""
        return svc.list_assignments(
            database(), current_identity(), args.get("scheme_id"), args.get("sub")
        )

    @blp.arguments(AssignmentSchema)
    @blp.response(201, AssignmentSchema)
    @records_token_with_write
    def post(self, values):
        """Assign a budget holder to a scheme (admin; audited)"""
        cmd = AssignHolder(actor=current_identity(), **values)
        return svc.assign_holder(cmd, as_uow(database()))


@blp.route("/<assignment_id>")
class AssignmentById(MethodView):
    @blp.response(204)
    @records_token_with_write
    def delete(self, assignment_id):
        """Take a budget holder off a scheme (admin; audited)"""
        cmd = UnassignHolder(actor=current_identity(), assignment_id=assignment_id)
        svc.unassign_holder(cmd, as_uow(database()))
