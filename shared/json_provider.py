"""Flask's JSON answers written by orjson: the same JSON as Flask's own provider, faster.

Dates, dataclasses and anything else orjson does not write itself go through Flask's own
`default` (so a datetime is still an HTTP date, as `jsonify` always wrote it); a value orjson
refuses (a key that is not a string, an integer wider than 64 bits) is written by Flask's
provider as before. Keys keep their order. Text is UTF-8 rather than `\\u` escapes, which JSON
reads the same. Reading bodies is unchanged (the standard library's parser).
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.sansio.response import Response

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class OrjsonProvider(DefaultJSONProvider):
    sort_keys = False

    def response(self, *args: Any, **kwargs: Any) -> Response:
        body = self.body_of(self._prepare_response_obj(args, kwargs))
        if body is None:
            return super().response(*args, **kwargs)
        return self._app.response_class(body, mimetype=self.mimetype)  # type: ignore[arg-type]

    def body_of(self, obj: Any) -> bytes | None:
        """The body `response(obj)` answers with, or None when Flask's own provider writes it:
        indented for people reading it (debug), or a value orjson refuses."""
        if (self.compact is None and self._app.debug) or self.compact is False:
            return None
        try:
            return orjson.dumps(obj, default=self.default, option=_OPTIONS) + b"\n"
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            return None


def install_json(app: Flask) -> None:
    app.json = OrjsonProvider(app)
