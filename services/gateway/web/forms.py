"""Forms: one schema per form carrying its GOV.UK messages, and one way to send it to a service.

A form schema reads what the browser sent into the values a service wants (pounds into pence,
three date inputs into a date) and names, in GOV.UK words, anything it cannot read. The rules
themselves stay in the services: `submit` sends the values and, when the service refuses them,
maps its problem+json back onto the form's fields, so the error summary names the field the
service rejected, in the words the form schema gives for it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from marshmallow import EXCLUDE, Schema, ValidationError, fields, missing, validate

from services.gateway.web.core import ServiceError, call, parse_pounds

# A message for a refusal: fixed words, or words made from the service's problem and the form.
Message = str | Callable[[ServiceError, Mapping[str, Any]], str]


def _pattern(template: str) -> re.Pattern[str]:
    escaped = re.escape(template)
    for name in ("min", "max", "equal"):
        escaped = escaped.replace(re.escape("{" + name + "}"), rf"(?P<{name}>\d+)")
    return re.compile(f"^{escaped}$")


# The services validate with marshmallow; its wording for a length refusal carries the limit, so
# the limit is read from the service's answer, never written down again here.
_TOO_LONG = [_pattern(validate.Length.message_max), _pattern(validate.Length.message_all)]
_MISSING = fields.Field.default_error_messages["required"]


class FormField:
    """GOV.UK words for a field: `required` when the page itself needs it and it is empty,
    `blank` when a service refuses it empty, `rejected` when a service refuses it otherwise, and
    `label` for a length limit the service names ("<label> must be 200 characters or fewer")."""

    def __init__(
        self,
        *args: Any,
        required: str | None = None,
        blank: Message | None = None,
        label: str | None = None,
        rejected: Message | None = None,
        **kwargs: Any,
    ) -> None:
        if required:
            kwargs["required"] = True
            kwargs.setdefault("error_messages", {})["required"] = required
        super().__init__(*args, **kwargs)
        self.blank = blank or required
        self.label, self.rejected = label, rejected


class Text(FormField, fields.String):
    """A text input or textarea: surrounding spaces dropped; left empty, it was not given."""

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kw: Any) -> Any:
        if isinstance(value, str):
            value = value.strip() or missing
        return super().deserialize(value, attr, data, **kw)


class Choice(Text):
    """Radios or a select: the answer must be one of the choices the page offered."""

    def __init__(
        self, *args: Any, invalid: str, choices: Iterable[str] | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("required", invalid)
        super().__init__(*args, **kwargs)
        self.invalid = invalid
        self.choices = set(choices) if choices is not None else None

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kw)
        if self.choices is not None and text not in self.choices:
            raise ValidationError(self.invalid)
        return text


class Pounds(FormField, fields.Field):
    """An amount typed in pounds ('£12.50', '12.5', '12'), read as whole pence: above zero, or
    zero too for a `free` price."""

    def __init__(
        self,
        *args: Any,
        invalid: str,
        free: bool = False,
        most_pence: int = 99_999_999,
        too_much: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.invalid, self.free = invalid, free
        self.most_pence, self.too_much = most_pence, too_much or invalid

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kw: Any) -> Any:
        if isinstance(value, str):
            value = value.strip() or missing
        return super().deserialize(value, attr, data, **kw)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> int:
        pence = parse_pounds(str(value))
        if pence is None or (pence == 0 and not self.free):
            raise ValidationError(self.invalid)
        if pence > self.most_pence:
            raise ValidationError(self.too_much)
        return pence


class WholeNumber(Text):
    """A number typed as digits only (an age, say); empty is None."""

    def __init__(self, *args: Any, invalid: str, **kwargs: Any) -> None:
        if not kwargs.get("required"):
            kwargs.setdefault("load_default", None)
        super().__init__(*args, **kwargs)
        self.invalid = invalid

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kw)
        if not text.isdigit() or len(text) > 6:
            raise ValidationError(self.invalid)
        return int(text)


class DateParts(FormField, fields.Field):
    """A GOV.UK date input: `<id>-day`, `<id>-month` and `<id>-year`, errors linked to the day."""

    def __init__(self, prefix: str, *args: Any, invalid: str, **kwargs: Any) -> None:
        kwargs.setdefault("required", invalid)
        super().__init__(*args, data_key=f"{prefix}-day", **kwargs)
        self.prefix, self.invalid = prefix, invalid

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kw: Any) -> Any:
        parts = [
            str((data or {}).get(f"{self.prefix}-{p}", "")).strip()
            for p in ("year", "month", "day")
        ]
        return super().deserialize(parts if any(parts) else missing, attr, data, **kw)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> date:
        try:
            return date(*(int(part) for part in value))
        except (TypeError, ValueError) as err:
            raise ValidationError(self.invalid) from err


class FormSchema(Schema):
    """A page's form. `service_fields` maps a service's field (or its first part, for nested ones
    such as `goals.0.text`) to this form's field id; a refusal that names no field of this form is
    shown on `summary_field`."""

    class Meta:
        unknown = EXCLUDE

    service_fields: ClassVar[Mapping[str, str]] = {}
    summary_field: ClassVar[str]
    # Whose words explain a refusal of one field the form has no words for: the problem's `detail`
    # (budget: a sentence; its field messages are terse) or the service's message for the field.
    field_words: ClassVar[bool] = False

    def anchor(self, field_id: str) -> str:
        """The id of the input an error summary item links to."""
        return field_id

    def field_id(self, service_path: str, values: Mapping[str, Any]) -> str | None:
        """The form field a service's field error belongs on (None: not one of this form's)."""
        ids = {f.data_key or name for name, f in self.fields.items()}
        parts = service_path.split(".")
        for n in range(len(parts), 0, -1):
            candidate = ".".join(parts[:n])
            target = self.service_fields.get(candidate, candidate)
            if target in ids:
                return target
        return None

    def by_id(self, field_id: str) -> fields.Field | None:
        return next((f for n, f in self.fields.items() if (f.data_key or n) == field_id), None)

    def order(self) -> list[str]:
        return [f.data_key or name for name, f in self.fields.items()]


@dataclass
class Form:
    """What the user sent, the values read from it, and GOV.UK messages by field id."""

    schema: FormSchema
    values: Mapping[str, Any]
    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    refusal: ServiceError | None = None
    key: str = ""

    def __post_init__(self) -> None:
        self.key = idempotency_key(self.values)

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def status(self) -> int:
        return 400 if self.errors else 200

    def context(self) -> dict[str, Any]:
        """The names form templates read: `form` (what was typed), `errors` (the summary, in page
        order), `field_errors` and `idempotency_key` (sent again with the form)."""
        order = {name: i for i, name in enumerate(self.schema.order())}
        ordered = dict(sorted(self.errors.items(), key=lambda kv: order.get(kv[0], len(order))))
        summary = [
            {"text": text, "href": "#" + self.schema.anchor(f)} for f, text in ordered.items()
        ]
        return {
            "form": self.values,
            "errors": summary,
            "field_errors": ordered,
            "idempotency_key": self.key,
        }

    def refuse(self, field_id: str, message: str) -> None:
        """Name a problem the page itself found (one message per field: the first stays)."""
        self.errors.setdefault(field_id, message)

    def reject(self, err: ServiceError) -> None:
        """Show a service's refusal on the fields it names, in the form's words."""
        self.refusal = err
        # The refused attempt is over and changed nothing: the corrected form is a new attempt,
        # which the service must not answer with the stored refusal (or as a reused key).
        self.key = uuid.uuid4().hex
        before = len(self.errors)
        named = field_messages(err.body.get("errors"))
        for path, messages in named.items():
            target = self.schema.field_id(path, self.values)
            if target is not None:
                # A refusal of one field explains itself in `detail`; of several, field by field.
                one = len(named) == 1 and not self.schema.field_words
                said = err.detail if one or not messages else messages[0]
                self.refuse(target, self._message(target, messages, err, said))
        if len(self.errors) == before:
            self.refuse(self.schema.summary_field, err.detail)

    def _message(self, field_id: str, messages: list[str], err: ServiceError, said: str) -> str:
        declared = self.schema.by_id(field_id)
        blank = getattr(declared, "blank", None)
        label = getattr(declared, "label", None)
        rejected = getattr(declared, "rejected", None)
        typed = str(self.values.get(field_id, "") or "").strip()
        first = messages[0] if messages else ""
        if blank and (not typed or first == _MISSING):
            return _words(blank, err, self.values)
        for pattern in _TOO_LONG:
            match = pattern.match(first)
            if match and label and typed:
                return f"{label} must be {match['max']} characters or fewer"
        if rejected:
            return _words(rejected, err, self.values)
        return said


def _words(message: Message, err: ServiceError, values: Mapping[str, Any]) -> str:
    return message if isinstance(message, str) else message(err, values)


def field_messages(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """A problem's `errors`, however nested, as {"goals.0.text": ["..."]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, Mapping):
        for name, inner in errors.items():
            flat.update(field_messages(inner, f"{prefix}{name}."))
    elif not prefix:  # messages about no field: the problem's detail says it
        return flat
    elif isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors):
        flat[prefix.rstrip(".")] = list(errors)
    elif isinstance(errors, list):
        for i, inner in enumerate(errors):
            flat.update(field_messages(inner, f"{prefix}{i}."))
    elif errors is not None:
        flat[prefix.rstrip(".")] = [str(errors)]
    return flat


def read(schema: FormSchema, values: Mapping[str, Any], *, when: bool = True) -> Form:
    """The form as sent (`when` false, as on a GET: nothing to read yet, so no errors)."""
    form = Form(schema, values)
    if not when:
        return form
    try:
        form.data = schema.load(dict(values.items()))
    except ValidationError as err:
        form.data = dict(err.valid_data or {})
        for name, inner in err.normalized_messages().items():
            # a field's own messages, or the first of a nested one's (its name may hold dots)
            messages = (
                [inner]
                if isinstance(inner, str)
                else list(inner)
                if isinstance(inner, list)
                else []
            )
            first = next((m for m in messages if isinstance(m, str)), None)
            first = first or next(iter(field_messages(inner, "x.").values()), [""])[0]
            form.refuse(schema.summary_field if name == "_schema" else name, first)
    return form


def choices(schema: FormSchema, name: str, allowed: Iterable[str]) -> FormSchema:
    """Tell a Choice field which answers this page offered."""
    target = schema.fields[name]
    assert isinstance(target, Choice)
    target.choices = set(allowed)
    return schema


def submit(
    form: Form,
    service: str,
    method: str,
    path: str,
    *,
    refusals: tuple[int, ...] = (409, 422),
    idempotent: bool = False,
    **kwargs: Any,
) -> Any | None:
    """Send a valid form to a service: its answer, or None with the refusal shown on the form.

    Only the statuses in `refusals` are the user's to fix; anything else is raised for the page's
    error handler (a 403 or 404 page, or "try again later"). An `idempotent` form sends the key
    the page was rendered with, so sending it twice does the thing once.
    """
    if not form.valid:
        return None
    if idempotent:
        kwargs["headers"] = {
            **kwargs.get("headers", {}),
            "Idempotency-Key": form.key,
        }
    try:
        return call(service, method, path, **kwargs)
    except ServiceError as err:
        if err.status not in refusals:
            raise
        form.reject(err)
        return None


def idempotency_key(values: Mapping[str, Any]) -> str:
    """The key a form was rendered with (a hidden field), or a new one for a new form."""
    sent = str(values.get("idempotency_key") or "")
    return sent if 0 < len(sent) <= 100 else uuid.uuid4().hex
