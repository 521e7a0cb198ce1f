"""The image's HEALTHCHECK: exit 0 if this container's process answers, 1 if not (no curl needed).

Web processes are asked `/ready` on $PORT; a worker (PHB_HEALTHCHECK_URL unset, PHB_ROLE=worker)
is asked its metrics port. PHB_HEALTHCHECK_URL overrides both."""

from __future__ import annotations

import os
import sys
import urllib.request


def url() -> str:
    explicit = os.environ.get("PHB_HEALTHCHECK_URL")
    if explicit:
        return explicit
    if os.environ.get("PHB_ROLE") == "worker":
        return f"http://127.0.0.1:{os.environ.get('PHB_METRICS_PORT', '9100')}/metrics"
    return f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/ready"


def main() -> int:
    try:
        with urllib.request.urlopen(url(), timeout=3) as response:  # noqa: S310 - loopback only
            return 0 if response.status == 200 else 1
    except OSError as err:
        print(f"unhealthy: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
