"""Payment runs (finance): batch what is due, download it for the finance system, mark it paid."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.common import IDEMPOTENCY_DOC, money_call
from services.budget.api.payment_runs.schemas import (
    PaymentRunCancelSchema,
    PaymentRunCreateSchema,
    PaymentRunPageSchema,
    PaymentRunPaidSchema,
    PaymentRunSchema,
)
from services.budget.domain import duties
from services.budget.service_layer import payment_run_queries as queries
from services.budget.service_layer import payment_run_settlement as settlement
from services.budget.service_layer import payment_runs as svc
from services.budget.service_layer.commands import (
    CancelPaymentRun,
    CreatePaymentRun,
    MarkRunPaid,
)
from shared.app import current_identity, database, records_token_with_write
from shared.openapi import refusal
from shared.pagination import PageArgsSchema

blp = Blueprint(
    "payment_runs",
    __name__,
    url_prefix="/payment-runs",
    description="Payment runs: batches of approved requests, paid together.",
)
NOT_FOUND = refusal("No payment run with that id.")
CLOSED = refusal("The run is cancelled (it can't be paid) or paid (it can't be cancelled).")
CSV_DOC = {"responses": {"200": {"content": {"text/csv": {"schema": {"type": "string"}}}}}}


def _dump(result):
    return PaymentRunSchema().dump(result)


def _csv(name_and_body: tuple[str, str]) -> Response:
    name, body = name_and_body
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@blp.route("")
class PaymentRuns(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, PaymentRunPageSchema)
    def get(self, args):
        """Payment runs, newest first (finance, admin)"""
        return queries.list_runs(
            database(), current_identity(), args["page"], args["per_page"]
        ).envelope()

    @blp.arguments(PaymentRunCreateSchema)
    @blp.response(201, PaymentRunSchema)
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.doc(
        responses={
            "409": refusal(
                "Nothing is due (`nothing-due`), or a named request is cancelled, not approved,"
                " already paid or in another open run (`not-payable`, `requests` names each)."
            )
        }
    )
    @records_token_with_write
    def post(self, values):
        """Batch every approved or ordered request due for payment, grouped by payee (finance)"""
        cmd = CreatePaymentRun(
            actor=current_identity(),
            due_by=values["due_by"],
            scheme_id=values["scheme_id"],
            request_ids=tuple(values["request_ids"] or ()),
        )
        return money_call(lambda uow: _dump(svc.create_run(uow, cmd)), 201, _dump)


@blp.route("/<run_id>")
class PaymentRunById(MethodView):
    @blp.response(200, PaymentRunSchema)
    @blp.doc(responses={"404": NOT_FOUND})
    def get(self, run_id):
        """One run: its payees and every line, with who approved and who paid it"""
        return queries.get_run(database(), current_identity(), run_id)


@blp.route("/<run_id>.csv")
class PaymentRunFile(MethodView):
    @blp.response(200, description="One line per payee (docs/finance.md)")
    @blp.doc(**CSV_DOC)
    @blp.doc(responses={"404": NOT_FOUND})
    def get(self, run_id):
        """The run for the finance system: one line per payee, its sum and requests"""
        return _csv(queries.payees_csv(database(), current_identity(), run_id))


@blp.route("/<run_id>/lines.csv")
class PaymentRunLinesFile(MethodView):
    @blp.response(200, description="One line per request (docs/finance.md)")
    @blp.doc(**CSV_DOC)
    @blp.doc(responses={"404": NOT_FOUND})
    def get(self, run_id):
        """The run's detail file: one line per request, with cost code, pot and funder"""
        return _csv(queries.lines_csv(database(), current_identity(), run_id))


@blp.route("/<run_id>/paid", methods=["POST"])
@blp.arguments(PaymentRunPaidSchema)
@blp.response(200, PaymentRunSchema)
@blp.doc(**IDEMPOTENCY_DOC)
@blp.doc(
    responses={
        "403": refusal(
            "Only finance and admins pay runs. Separation of duties: whoever approved a request in"
            f" the run may not mark it paid (`rule` is `{duties.APPROVER_MAY_NOT_PAY}`,"
            " `request_ids` names them), unless the scheme lets a named small team combine duties.",
            rules=(duties.APPROVER_MAY_NOT_PAY,),
        ),
        "404": NOT_FOUND,
        "409": CLOSED,
    }
)
@records_token_with_write
def payment_run_paid(values, run_id):
    """Record every payment of the run with its reference, at once; paid twice records nothing"""
    cmd = MarkRunPaid(actor=current_identity(), run_id=run_id, paid_on=values["paid_on"])
    return money_call(lambda uow: _dump(settlement.mark_paid(uow, cmd)), dump=_dump)


@blp.route("/<run_id>/cancel", methods=["POST"])
@blp.arguments(PaymentRunCancelSchema)
@blp.response(200, PaymentRunSchema)
@blp.doc(**IDEMPOTENCY_DOC)
@blp.doc(responses={"404": NOT_FOUND, "409": CLOSED})
@records_token_with_write
def payment_run_cancel(values, run_id):
    """Cancel an unpaid run, with a reason: its requests wait for the next run"""
    cmd = CancelPaymentRun(actor=current_identity(), run_id=run_id, reason=values["reason"])
    return money_call(lambda uow: _dump(settlement.cancel_run(uow, cmd)), dump=_dump)
