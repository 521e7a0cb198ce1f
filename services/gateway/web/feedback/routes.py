"""A young person's check-in, opened from a link (public: the link's token is the permission)."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for

from services.gateway.web.blueprint import bp
from services.gateway.web.core import ServiceError, call_raw, render
from services.gateway.web.feedback.forms import answers, feedback_form, field_id
from services.gateway.web.forms import read, submit
from services.gateway.web.segments import seg


def _feedback_form(token: str) -> dict[str, Any] | None:
    if len(token) > 200:
        return None
    answer = call_raw("outcomes", "GET", f"/feedback/{seg(token)}", identity=False)
    if answer.status_code == 404:
        return None
    if answer.status_code != 200:
        raise ServiceError(answer.status_code, {"title": "The check-in is not available"})
    return answer.json()


@bp.route("/feedback/<token>", methods=["GET", "POST"])
@bp.route("/check-in/<token>", methods=["GET", "POST"])
def feedback(token: str):
    form_spec = _feedback_form(token)
    if form_spec is None:
        return render("web/feedback_gone.html", title="This link has already been used"), 404
    schema = feedback_form(form_spec)
    form = read(schema, request.form, when=request.method == "POST")
    if request.method == "POST":
        saved = submit(
            form,
            "outcomes",
            "POST",
            f"/feedback/{seg(token)}",
            identity=False,
            json={"answers": answers(schema, form.data)},
            refusals=(404, 422),
        )
        if saved is not None:
            return redirect(url_for("web.feedback_thanks"))
        if form.refusal is not None and form.refusal.status == 404:
            return render("web/feedback_gone.html", title="This link has already been used"), 404
    return render(
        "web/feedback.html",
        title=form_spec.get("title") or "Check-in",
        spec=form_spec,
        **form.context(),
        field_id=field_id,
    ), form.status


@bp.get("/feedback/thank-you")
def feedback_thanks():
    return render("web/feedback_thanks.html", title="Thank you")
