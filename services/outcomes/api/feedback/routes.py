"""The young person's side: a feedback link opens one check-in, once, with no account."""

from flask.views import MethodView
from flask_smorest import Blueprint

from services.outcomes.api.checkins.schemas import AnswersSchema
from services.outcomes.api.feedback.schemas import (
    FeedbackFormSchema,
    ThanksSchema,
)
from services.outcomes.registry import outcomes_services
from services.outcomes.service_layer import checkins as svc
from services.outcomes.service_layer.commands import AnswerByLink
from shared.app import public

blp = Blueprint(
    "feedback",
    __name__,
    url_prefix="/feedback",
    description="Public: the token in the link is the only credential. Unknown, used and expired "
    "links all get the same 404.",
)


@blp.route("/<string:token>")
class Feedback(MethodView):
    @public
    @blp.response(200, FeedbackFormSchema)
    @blp.alt_response(404, description="Unknown, used or expired link")
    def get(self, token):
        """The questions behind a feedback link"""
        return svc.feedback_form(outcomes_services().uow, outcomes_services().instruments, token)

    @public
    @blp.arguments(AnswersSchema)
    @blp.response(200, ThanksSchema)
    @blp.alt_response(404, description="Unknown, used or expired link")
    @blp.alt_response(422, description="Answers to fix, each named by its question key")
    def post(self, body, token):
        """Answer the check-in; the link then stops working"""
        app = outcomes_services()
        cmd = AnswerByLink(token=token, answers=body["answers"])
        return svc.answer_by_link(cmd, app.uow, app.instruments)
