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
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)  # indented, for people reading it
        obj = self._prepare_response_obj(args, kwargs)
        try:
            body = orjson.dumps(obj, default=self.default, option=_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            return super().response(*args, **kwargs)
        return self._app.response_class(body + b"\n", mimetype=self.mimetype)  # type: ignore[arg-type]


def install_json(app: Flask) -> None:
    app.json = OrjsonProvider(app)
