"""A check-in's form, built from the questions the outcomes service sends with the link."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from services.gateway.web.forms import FormSchema, Text, WholeNumber


def field_id(key: str) -> str:
    """The page id of a question's input (keys may hold characters an id should not)."""
    return "q-" + "".join(ch if ch.isalnum() else "-" for ch in key)


class FeedbackForm(FormSchema):
    """Answers to a check-in. Which answers are allowed, and how long a written one may be, is the
    outcomes service's to decide; its own words for each question are shown."""

    field_words = True

    def anchor(self, field_id_: str) -> str:
        return field_id(field_id_)


def feedback_form(spec: dict[str, Any]) -> FeedbackForm:
    """A form with one field per question of `spec` (the outcomes service's feedback form)."""
    questions: dict[str, fields.Field] = {}
    for section in spec.get("sections", []):
        for item in section.get("items", []):
            choose = f"Choose an answer: {item['text']}"
            if item.get("type") in ("numeric", "choice"):
                field: fields.Field = WholeNumber(
                    data_key=item["key"],
                    invalid=choose,
                    required=choose if item.get("required") else None,
                )
            else:
                field = Text(data_key=item["key"], load_default=None)
            questions[f"q{len(questions)}"] = field  # attribute names may not hold dots
    # a refusal naming no question is shown on the first one
    first = next((f.data_key or "" for f in questions.values()), "form")
    schema = type("FeedbackForm", (FeedbackForm,), {**questions, "summary_field": first})()
    assert isinstance(schema, FeedbackForm)
    return schema


def answers(schema: FeedbackForm, data: dict[str, Any]) -> dict[str, Any]:
    """The answers given, by question key (questions left empty are not sent)."""
    return {
        schema.fields[name].data_key or name: value
        for name, value in data.items()
        if value not in (None, "")
    }
