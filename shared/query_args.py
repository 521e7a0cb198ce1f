"""Reading a query string quickly, by its own schema's fields, and by the schema whenever unsure
(any service's `GET` view: an API package holds only its routes and schemas).

webargs reads a query string through marshmallow's `Schema.load`: a proxy over the arguments, a
store for errors, hooks, a getter closure and a call a field. For `GET /search` that machinery,
not the reading, was most of a quarter of a millisecond a search (bench/search_request.py). A
`QueryReader` walks the schema's fields once, when the view is decorated, and then reads a query
string with each field's own `deserialize` (its type, its validators, its default: the very code
`Schema.load` runs for that field), the arguments as webargs would hand them over (every value of
a field that takes several, the first of any other).

It answers only what it is sure of. An argument the schema does not know, a missing required
field or any value a field refuses and the schema itself reads the request, as before: so a bad
request's problem+json names every bad field with the messages it always had.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict

QUERY_LOCATIONS = frozenset({"query", "querystring"})
# fields whose `deserialize` reads nothing but the value it is given
SIMPLE_FIELDS = (ma.fields.String, ma.fields.Integer, ma.fields.Float, ma.fields.Boolean)


class QueryReader:
    """A schema's query-string fields, read one by one (`read`), or None when it cannot mirror
    `Schema.load` for them (`for_schema`)."""

    def __init__(self, fields: list[tuple[str, str, ma.fields.Field, bool]]):
        self.fields = fields  # (attribute, argument name, field, takes several values)
        self.names = frozenset(name for _attribute, name, _field, _several in fields)

    @classmethod
    def for_schema(cls, schema: ma.Schema) -> QueryReader | None:
        if any(schema._hooks.values()):  # pre/post-load or schema validators: load() runs them
            return None
        several = MultiDictProxy(MultiDict(), schema).multiple_keys  # as webargs would hand over
        fields = []
        for attribute, field in schema.load_fields.items():
            inner = field.inner if isinstance(field, ma.fields.List) else field
            if not isinstance(inner, SIMPLE_FIELDS):
                return None
            name = field.data_key if field.data_key is not None else attribute
            fields.append((field.attribute or attribute, name, field, name in several))
        return cls(fields)

    def read(self, args: MultiDict[str, str]) -> dict[str, Any] | None:
        """The arguments as `Schema.load` would give them; None when not sure of that."""
        if not self.names.issuperset(args.keys()):
            return None  # an argument the schema does not know: its `unknown` rule decides
        read: dict[str, Any] = {}
        for attribute, name, field, several in self.fields:
            if name in args:
                raw = args.getlist(name) if several else args[name]
                try:
                    read[attribute] = field.deserialize(raw, name, args)
                except ma.ValidationError:
                    return None  # the schema reads it all again, naming every bad field
                continue
            if field.required:
                return None
            default = field.load_default
            if default is not ma.missing:
                read[attribute] = default() if callable(default) else default
        return read


class QuickQueryParser(FlaskParser):
    """webargs' Flask parser, reading query strings with a `QueryReader` when one can: each schema
    it is given for the query string gets one when its view is decorated."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.readers: dict[int, tuple[ma.Schema, QueryReader]] = {}

    def use_args(self, argmap: Any, req: Any = None, **kwargs: Any) -> Callable[..., Any]:
        if isinstance(argmap, ma.Schema) and kwargs.get("location") in QUERY_LOCATIONS:
            reader = QueryReader.for_schema(argmap)
            if reader is not None:
                self.readers[id(argmap)] = (argmap, reader)  # the schema kept: its id stays its
        return super().use_args(argmap, req, **kwargs)

    def parse(self, argmap: Any, req: Any = None, **kwargs: Any) -> Any:
        known = self.readers.get(id(argmap))
        if (
            known is not None
            and known[0] is argmap
            and kwargs.get("location") in QUERY_LOCATIONS
            and not kwargs.get("validate")
        ):
            request = req if req is not None else self.get_default_request()
            read = known[1].read(request.args)
            if read is not None:
                return read
        return super().parse(argmap, req, **kwargs)
