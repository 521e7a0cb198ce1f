"""Case studies: drafted by advisors with recorded consent, approved by an admin."""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.outcomes.registry import outcomes_services
from services.outcomes.service_layer import case_studies as svc
from shared.app import current_identity

blp = Blueprint(
    "case_studies",
    __name__,
    url_prefix="/case-studies",
    description="De-identified stories of young people's journeys.",
)


class CaseStudySchema(Schema):
    id = fields.String(dump_only=True)
    person_id = fields.UUID(required=True)
    author_sub = fields.String(dump_only=True)
    title = fields.String(required=True, validate=validate.Length(min=3, max=200))
    story = fields.String(required=True, validate=validate.Length(min=20, max=5000))
    age_band = fields.String(dump_only=True)
    place = fields.String(dump_only=True)
    category = fields.String(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True, metadata={"description": "draft or approved"})
    approved_by = fields.String(dump_only=True, allow_none=True)
    approved_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class CaseStudyArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(("draft", "approved")))


@blp.route("")
class CaseStudies(MethodView):
    @blp.arguments(CaseStudyArgsSchema, location="query")
    @blp.response(200, CaseStudySchema(many=True))
    def get(self, args):  # type: ignore[no-untyped-def]
        """Case studies (an advisor: their own drafts; an admin: all)"""
        return svc.list_studies(outcomes_services().db, current_identity(), args.get("status"))

    @blp.arguments(CaseStudySchema)
    @blp.response(201, CaseStudySchema)
    def post(self, values):  # type: ignore[no-untyped-def]
        """Draft a case study (the young person must have consented; no names)"""
        return svc.draft(outcomes_services().db, current_identity(), values)


@blp.route("/<uuid:study_id>/approve")
class ApproveCaseStudy(MethodView):
    @blp.response(200, CaseStudySchema)
    def post(self, study_id):  # type: ignore[no-untyped-def]
        """Approve a case study for reports (admin)"""
        return svc.approve(outcomes_services().db, current_identity(), str(study_id))
