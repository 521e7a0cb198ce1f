"""Ongoing packages: set up with their whole term held, paid instalment by instalment, ended early."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.common import IDEMPOTENCY_DOC, directory, money_call
from services.budget.api.packages.schemas import (
    EndingSchema,
    InstalmentPaymentSchema,
    PackagePageSchema,
    PackageQueryArgsSchema,
    PackageSchema,
)
from services.budget.domain import duties
from services.budget.service_layer import packages as svc
from shared.app import current_identity, database, records_token_with_write
from shared.openapi import refusal

blp = Blueprint(
    "packages",
    __name__,
    url_prefix="/packages",
    description="Ongoing packages: recurring commitments paid in instalments.",
)


def _dump(result):
    return PackageSchema().dump(result)


NOT_FOUND = refusal("No package with that id that you may see, or no such instalment.")
CHANGED = refusal(
    "The package is not active, the instalment is already paid, it changed meanwhile, or not"
    " enough money is left."
)


@blp.route("")
class Packages(MethodView):
    @blp.arguments(PackageQueryArgsSchema, location="query")
    @blp.response(200, PackagePageSchema)
    def get(self, args):
        """Packages the caller may see, newest first"""
        page = svc.list_packages(
            database(), current_identity(), args, args["page"], args["per_page"]
        )
        return page.envelope()

    @blp.arguments(PackageSchema)
    @blp.response(201, PackageSchema)
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.doc(
        responses={
            "404": refusal("No such young person on your caseload, or goal in their plan."),
            "409": refusal("Not enough money is left for the whole term."),
        }
    )
    @records_token_with_write
    def post(self, values):
        """Set up a package for a plan goal; its whole term is held from the budget"""
        actor = current_identity()
        for name in ("listing_id", "cost_option_id"):
            if values.get(name) is not None:
                values[name] = str(values[name])
        return money_call(
            lambda uow: _dump(svc.create_package(uow, directory(), actor, values)), 201, _dump
        )


@blp.route("/<package_id>")
class PackageById(MethodView):
    @blp.response(200, PackageSchema)
    def get(self, package_id):
        """One package with its schedule of instalments"""
        return svc.get_package(database(), current_identity(), package_id)


@blp.route("/<package_id>/instalments/<number>/pay")
class InstalmentPayment(MethodView):
    @blp.arguments(InstalmentPaymentSchema)
    @blp.response(200, PackageSchema)
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.doc(
        responses={
            "403": refusal(
                "Only finance and admins record payments. Separation of duties: whoever set up"
                f" a package may not pay its instalments (`rule` is `{duties.APPROVER_MAY_NOT_PAY}`),"
                " unless the scheme lets a named small team combine duties.",
                rules=(duties.APPROVER_MAY_NOT_PAY,),
            ),
            "404": NOT_FOUND,
            "409": CHANGED,
        }
    )
    @records_token_with_write
    def post(self, values, package_id, number):
        """Record one instalment's payment (finance): it is posted from the package's hold"""
        actor = current_identity()
        which = svc.instalment_number(number)
        return money_call(
            lambda uow: _dump(svc.pay_instalment(uow, actor, package_id, which, values)),
            dump=_dump,
        )


@blp.route("/<package_id>/end")
class PackageEnding(MethodView):
    @blp.arguments(EndingSchema)
    @blp.response(200, PackageSchema)
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.doc(responses={"404": NOT_FOUND, "409": CHANGED})
    @records_token_with_write
    def post(self, values, package_id):
        """End a package early, with a reason; the instalments not yet paid are released"""
        actor = current_identity()
        return money_call(
            lambda uow: _dump(svc.end_package(uow, actor, package_id, values["reason"])),
            dump=_dump,
        )
