from flask import Flask
from flask.views import MethodView
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields, validate

from shared.errors import Conflict, DependencyUnavailable
from shared.problems import register_error_handlers


class ThingSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(max=5))
    pence = fields.Integer(required=True, strict=True)


def make_app() -> Flask:
    app = Flask("t")
    app.config.update(API_TITLE="t", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    blp = Blueprint("things", __name__, url_prefix="/things")

    @blp.route("")
    class Things(MethodView):
        @blp.arguments(ThingSchema)
        def post(self, data):
            if data["name"] == "dup":
                raise Conflict("That thing exists.", current_state="approved")
            if data["name"] == "down":
                raise DependencyUnavailable("Directory is down.", retry_after=3)
            if data["name"] == "boom":
                raise RuntimeError("secret internals")
            return data

    Api(app).register_blueprint(blp)
    register_error_handlers(app)
    return app


def test_invalid_input_is_422_problem_naming_every_bad_field():
    response = make_app().test_client().post("/things", json={"name": "toolong", "pence": "x"})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.json["errors"]) == {"name", "pence"}


def test_domain_conflict_keeps_its_status_and_extra_members():
    response = make_app().test_client().post("/things", json={"name": "dup", "pence": 1})
    assert response.status_code == 409
    assert response.json["current_state"] == "approved"
    assert response.json["type"].endswith("/conflict")


def test_unavailable_dependency_says_when_to_retry():
    response = make_app().test_client().post("/things", json={"name": "down", "pence": 1})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "3"


def test_unexpected_errors_leave_no_stack_trace():
    response = make_app().test_client().post("/things", json={"name": "boom", "pence": 1})
    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_unknown_route_is_404_problem():
    response = make_app().test_client().get("/nowhere")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_wrong_method_is_405_with_allow_header():
    response = make_app().test_client().get("/things")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
