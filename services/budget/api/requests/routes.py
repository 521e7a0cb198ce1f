"""Purchase requests through their life cycle: raised, decided, paid, evidenced, closed."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.common import IDEMPOTENCY_DOC, directory, money_call
from services.budget.api.requests.schemas import (
    ApprovalSchema,
    EvidenceSchema,
    OrderSchema,
    PaymentSchema,
    ReasonSchema,
    RecoverySchema,
    RequestPageSchema,
    RequestQueryArgsSchema,
    RequestSchema,
)
from services.budget.domain import duties
from services.budget.service_layer import requests as svc
from shared.app import current_identity, database, records_token_with_write
from shared.openapi import refusal
from shared.schema_dump import compile_dump

blp = Blueprint(
    "requests",
    __name__,
    url_prefix="/requests",
    description="Purchase requests and their life cycle.",
)


# One instance for every call: building a marshmallow schema costs more than dumping with it.
_REQUEST = RequestSchema()
# Its dump of an answer planned once (shared.schema_dump): the same body, field for field.
_DUMP_REQUEST = compile_dump(_REQUEST)


def _dump(result):
    """A request's answer as the API shows it; once a call (`SqlUnitOfWork.body`)."""
    return _DUMP_REQUEST(result)


dump_request = _dump


@blp.route("")
class Requests(MethodView):
    @blp.arguments(RequestQueryArgsSchema, location="query")
    @blp.response(200, RequestPageSchema)
    def get(self, args):
        """Requests the caller may see, newest first"""
        page = svc.list_requests(
            database(), current_identity(), args, args["page"], args["per_page"]
        )
        return page.envelope()

    @blp.arguments(_REQUEST)
    @blp.response(201, RequestSchema)
    @blp.doc(**IDEMPOTENCY_DOC)
    @records_token_with_write  # every write of a request's life cycle is in its unit of work
    @blp.doc(
        responses={
            "404": refusal("No such young person on your caseload, or goal in their plan."),
            "409": refusal("Submitted and approved by rule, but not enough money is left."),
        }
    )
    def post(self, values):
        """Raise a request for a listing's cost option, or for equipment from a named supplier"""
        actor = current_identity()
        for name in ("listing_id", "cost_option_id"):
            if values.get(name) is not None:
                values[name] = str(values[name])
        return money_call(
            lambda uow: uow.body(svc.create_request(uow, directory(), actor, values), _dump),
            201,
            _dump,
        )


@blp.route("/<request_id>")
class RequestById(MethodView):
    @blp.response(200, RequestSchema)
    def get(self, request_id):
        """One request with its history (every transition: when, who, why)"""
        return svc.get_request(database(), current_identity(), request_id)


# Why each step may be refused, as the documents declare it.
_SEPARATION = {
    "approve": (duties.RAISER_MAY_NOT_APPROVE, "whoever raised a request may not approve it"),
    "pay": (duties.APPROVER_MAY_NOT_PAY, "whoever approved a request may not record its payment"),
}


def _refusals(action: str) -> dict:
    roles = ", ".join(duties.ACTION_ROLES[action]).replace("_", " ")
    forbidden = f"Only these roles may take this step: {roles}."
    rules: tuple[str, ...] = ()
    if action in _SEPARATION:
        rule, why = _SEPARATION[action]
        forbidden += (
            f" Separation of duties: {why} (`rule` is `{rule}`), admins included, unless the"
            " scheme lets a named small team combine duties."
        )
        rules = (rule,)
    return {
        "403": refusal(forbidden, rules=rules),
        "404": refusal(
            "No request with that id that you may see (another caseload's or scheme's is not"
            " found)."
        ),
        "409": refusal(
            "The request is not in a state this step starts from (its `actions` say what may be"
            " done now), it changed meanwhile, or not enough money is left."
        ),
    }


# Each step's view as registered, and its body's schema (the lean path mirrors the approval's:
# services/budget/api/lean.py).
VIEWS: dict = {}
ARGUMENTS: dict = {}


def _action(path: str, summary: str, schema=None):
    """Register POST /requests/<id>/<path>: a life-cycle step, idempotent by key."""

    def register(call):
        def view(*args, **kwargs):
            values = args[0] if args else {}
            actor = current_identity()
            request_id = kwargs["request_id"]
            return money_call(
                lambda uow: uow.body(call(uow, actor, request_id, values), _dump), dump=_dump
            )

        view.__name__ = f"request_{path.replace('-', '_')}"
        view.__doc__ = summary
        decorated = blp.response(200, RequestSchema)(records_token_with_write(view))
        decorated = blp.doc(**IDEMPOTENCY_DOC)(decorated)
        decorated = blp.doc(responses=_refusals(path.replace("-", "_")))(decorated)
        if schema is not None:
            # An instance: given the class, webargs would build the schema again on every call.
            ARGUMENTS[path] = schema()
            decorated = blp.arguments(ARGUMENTS[path])(decorated)
        blp.route(f"/<request_id>/{path}", methods=["POST"], endpoint=view.__name__)(decorated)
        VIEWS[path] = decorated
        return call

    return register


@_action(
    "submit",
    "Submit a draft (the directory is asked again; small verified requests may be approved by rule)",
)
def _submit(uow, actor, request_id, _values):
    return svc.submit_request(uow, directory(), actor, request_id)


@_action(
    "approve",
    "Approve (budget holder): the directory is asked again and the money is held",
    ApprovalSchema,
)
def _approve(uow, actor, request_id, values):
    return svc.approve_request(uow, directory(), actor, request_id, values)


@_action("reject", "Reject, with a written reason", ReasonSchema)
def _reject(uow, actor, request_id, values):
    return svc.reject_request(uow, actor, request_id, values["reason"])


@_action(
    "request-info", "Send back to the advisor for more information, with a reason", ReasonSchema
)
def _info(uow, actor, request_id, values):
    return svc.request_info(uow, actor, request_id, values["reason"])


@_action("cancel", "Cancel, with a reason; any hold is released", ReasonSchema)
def _cancel(uow, actor, request_id, values):
    return svc.cancel_request(uow, actor, request_id, values["reason"])


@_action("expire", "Expire an approval that was never used; the hold is released", ReasonSchema)
def _expire(uow, actor, request_id, values):
    return svc.cancel_request(uow, actor, request_id, values["reason"], expire=True)


@_action("order", "Record that it has been ordered (finance)", OrderSchema)
def _order(uow, actor, request_id, values):
    return svc.order_request(uow, actor, request_id, values.get("reference"))


@_action("pay", "Record the payment to the provider (finance); the hold is posted", PaymentSchema)
def _pay(uow, actor, request_id, values):
    return svc.pay_request(uow, actor, request_id, values)


@_action("evidence", "Add evidence (receipt or invoice reference, attendance)", EvidenceSchema)
def _evidence(uow, actor, request_id, values):
    return svc.add_evidence(uow, actor, request_id, values)


@_action("close", "Close an evidenced request")
def _close(uow, actor, request_id, _values):
    return svc.close_request(uow, actor, request_id)


@_action(
    "recover", "Record money returned by the provider (finance), with a reason", RecoverySchema
)
def _recover(uow, actor, request_id, values):
    return svc.recover_request(uow, actor, request_id, values["amount_pence"], values["reason"])
