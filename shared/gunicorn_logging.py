"""Gunicorn's access log without secrets: paths carrying a young person's feedback token and
query strings carrying OAuth codes are scrubbed (`--logger-class shared.gunicorn_logging.Logger`)."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

from shared.logs import redact

# No query string, no referrer: both can carry secrets; the path is scrubbed below.
ACCESS_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'


class Logger(GunicornLogger):
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f", "a"):
            if key in atoms and isinstance(atoms[key], str):
                atoms[key] = redact(atoms[key])
        return atoms
