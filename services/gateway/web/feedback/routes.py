"""A young person's check-in, opened from a link (public: the link's token is the permission)."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for

from services.gateway.web.blueprint import bp
from services.gateway.web.core import ServiceError, call_raw, render


def _feedback_form(token: str) -> dict[str, Any] | None:
    if len(token) > 200:
        return None
    answer = call_raw("outcomes", "GET", f"/feedback/{token}", identity=False)
    if answer.status_code == 404:
        return None
    if answer.status_code != 200:
        raise ServiceError(answer.status_code, {"title": "The check-in is not available"})
    return answer.json()


@bp.route("/feedback/<token>", methods=["GET", "POST"])
@bp.route("/check-in/<token>", methods=["GET", "POST"])
def feedback(token: str):  # type: ignore[no-untyped-def]
    form_spec = _feedback_form(token)
    if form_spec is None:
        return render("web/feedback_gone.html", title="This link has already been used"), 404
    errors: dict[str, str] = {}
    values = request.form
    if request.method == "POST":
        answers: dict[str, Any] = {}
        for section in form_spec.get("sections", []):
            for item in section.get("items", []):
                key = item["key"]
                raw = values.get(key, "").strip()
                if not raw:
                    if item.get("required"):
                        errors[key] = f"Choose an answer: {item['text']}"
                    continue
                if item.get("type") in ("numeric", "choice"):
                    try:
                        answers[key] = int(raw)
                    except ValueError:
                        errors[key] = f"Choose an answer: {item['text']}"
                else:
                    answers[key] = raw[: item.get("max_length") or 2000]
        if not errors:
            answer = call_raw(
                "outcomes", "POST", f"/feedback/{token}", identity=False, json={"answers": answers}
            )
            if answer.status_code == 200:
                return redirect(url_for("web.feedback_thanks"))
            if answer.status_code == 404:
                return render(
                    "web/feedback_gone.html", title="This link has already been used"
                ), 404
            if answer.status_code != 422:
                raise ServiceError(answer.status_code, {"title": "The check-in was not saved"})
            problem = ServiceError(422, answer.json())
            for name, messages in problem.field_errors.items():
                errors[name] = messages[0]
            if not errors:
                errors["form"] = problem.detail
    return render(
        "web/feedback.html",
        title=form_spec.get("title") or "Check-in",
        spec=form_spec,
        form=values,
        errors=[{"text": text, "href": "#" + _field_id(k)} for k, text in errors.items()],
        field_errors=errors,
        field_id=_field_id,
    ), (400 if errors else 200)


def _field_id(key: str) -> str:
    return "q-" + "".join(ch if ch.isalnum() else "-" for ch in key)


@bp.get("/feedback/thank-you")
def feedback_thanks():  # type: ignore[no-untyped-def]
    return render("web/feedback_thanks.html", title="Thank you")
