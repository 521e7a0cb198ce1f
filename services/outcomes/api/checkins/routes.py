"""Check-ins for advisors: their caseload's status, links to send, answers entered together, notes."""

from flask.views import MethodView
from flask_smorest import Blueprint

from services.outcomes.api.checkins.schemas import (
    AnswersSchema,
    CheckInDetailSchema,
    CheckInPageSchema,
    CheckInQueryArgsSchema,
    IssuedLinkSchema,
    ObservationSchema,
    PersonCheckInsSchema,
)
from services.outcomes.registry import outcomes_services
from services.outcomes.service_layer import checkins as svc
from services.outcomes.service_layer.commands import AddObservation, AnswerByAdvisor, IssueLink
from shared.app import current_identity

blp = Blueprint(
    "checkins", __name__, url_prefix="/checkins", description="Baseline and follow-up check-ins."
)
people = Blueprint(
    "people", __name__, url_prefix="/people", description="Young people's check-in history."
)


@blp.route("")
class CheckIns(MethodView):
    @blp.arguments(CheckInQueryArgsSchema, location="query")
    @blp.response(200, CheckInPageSchema)
    def get(self, args):
        """Check-ins the caller may see (an advisor: their caseload), soonest due first"""
        return svc.list_checkins(outcomes_services().uow, current_identity(), args)


@blp.route("/<uuid:checkin_id>")
class CheckIn(MethodView):
    @blp.response(200, CheckInDetailSchema)
    def get(self, checkin_id):
        """One check-in with its answers and the advisor's observations"""
        return svc.get_checkin(outcomes_services().uow, current_identity(), str(checkin_id))


@blp.route("/<uuid:checkin_id>/link")
class CheckInLink(MethodView):
    @blp.response(201, IssuedLinkSchema)
    def post(self, checkin_id):
        """Issue a feedback link for the young person (any earlier unused link stops working)"""
        app = outcomes_services()
        cmd = IssueLink(
            actor=current_identity(),
            checkin_id=str(checkin_id),
            link_days=app.settings.link_days,
        )
        return svc.issue_link(cmd, app.uow)


@blp.route("/<uuid:checkin_id>/answers")
class CheckInAnswers(MethodView):
    @blp.arguments(AnswersSchema)
    @blp.response(200, CheckInDetailSchema)
    def post(self, body, checkin_id):
        """Record answers given to the advisor in person"""
        app = outcomes_services()
        cmd = AnswerByAdvisor(
            actor=current_identity(), checkin_id=str(checkin_id), answers=body["answers"]
        )
        return svc.answer_by_advisor(cmd, app.uow, app.instruments)


@blp.route("/<uuid:checkin_id>/observations")
class CheckInObservations(MethodView):
    @blp.arguments(ObservationSchema)
    @blp.response(201, ObservationSchema)
    def post(self, body, checkin_id):
        """Add what the advisor has seen"""
        cmd = AddObservation(
            actor=current_identity(), checkin_id=str(checkin_id), text=body["text"]
        )
        return svc.add_observation(cmd, outcomes_services().uow)


@people.route("/<uuid:person_id>/checkins")
class PersonCheckIns(MethodView):
    @people.response(200, PersonCheckInsSchema)
    def get(self, person_id):
        """A young person's check-ins (their advisor or an admin)"""
        return svc.person_summary(outcomes_services().uow, current_identity(), str(person_id))
