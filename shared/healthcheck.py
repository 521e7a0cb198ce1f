"""The image's HEALTHCHECK: exit 0 if this container's process answers, 1 if not (no curl needed).

Web processes are asked `/ready` on $PORT; a worker (PHB_HEALTHCHECK_URL unset, PHB_ROLE=worker)
is asked its metrics port. PHB_HEALTHCHECK_URL overrides both."""

from __future__ import annotations

import sys
import urllib.request

from shared.config import healthcheck_url


def main() -> int:
    try:
        with urllib.request.urlopen(healthcheck_url(), timeout=3) as response:  # noqa: S310 - loopback only
            return 0 if response.status == 200 else 1
    except OSError as err:
        print(f"unhealthy: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
