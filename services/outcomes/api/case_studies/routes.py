"""Case studies: drafted by advisors with recorded consent, approved by an admin."""

from flask.views import MethodView
from flask_smorest import Blueprint

from services.outcomes.api.case_studies.schemas import (
    CaseStudyQueryArgsSchema,
    CaseStudySchema,
)
from services.outcomes.registry import outcomes_services
from services.outcomes.service_layer import case_studies as svc
from services.outcomes.service_layer import commands
from shared.app import current_identity

blp = Blueprint(
    "case_studies",
    __name__,
    url_prefix="/case-studies",
    description="De-identified stories of young people's journeys.",
)


@blp.route("")
class CaseStudies(MethodView):
    @blp.arguments(CaseStudyQueryArgsSchema, location="query")
    @blp.response(200, CaseStudySchema(many=True))
    def get(self, args):
        """Case studies (an advisor: their own drafts; an admin: all)"""
        return svc.list_studies(outcomes_services().uow, current_identity(), args.get("status"))

    @blp.arguments(CaseStudySchema)
    @blp.response(201, CaseStudySchema)
    def post(self, values):
        """Draft a case study (the young person must have consented; no names)"""
        cmd = commands.DraftCaseStudy(
            actor=current_identity(),
            person_id=str(values["person_id"]),
            title=values["title"],
            story=values["story"],
        )
        return svc.draft(cmd, outcomes_services().uow)


@blp.route("/<uuid:study_id>/approve")
class ApproveCaseStudy(MethodView):
    @blp.response(200, CaseStudySchema)
    def post(self, study_id):
        """Approve a case study for reports (admin)"""
        cmd = commands.ApproveCaseStudy(actor=current_identity(), study_id=str(study_id))
        return svc.approve(cmd, outcomes_services().uow)
