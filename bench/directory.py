"""Directory benchmark: latency of the reads other services and feed readers make, through the gateway.

    .venv/bin/python bench/directory.py            # seeded suite on SQLite (PostgreSQL when TEST_POSTGRES_URL is set)

Starts the real suite with the demo catalogue and times, one client at a time, 200 calls each of:
fundability (what the budget service asks per request), a listing with its ETag, an ORUK page of
50 fully nested services, an ORUK service, and service_at_locations near a postcode (5 km). Then a
provider edit (PATCH with If-Match). Prints medians and p95 in milliseconds.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.demo import DEMO_PROVIDER_ID, demo_uuid  # noqa: E402
from tests.support import postgres_available, running_suite  # noqa: E402

CALLS = 200


def timed(call, n: int = CALLS) -> tuple[float, float]:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        response = call(i)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code < 300, response.text[:200]
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_suite(Path(tmp) / "var", seed=True, postgres=postgres_available()) as suite,
    ):
        listing = lambda i: demo_uuid("listing", i % 150)  # noqa: E731
        advisor = suite.headers("advisor")
        provider = suite.headers("provider", provider_id=DEMO_PROVIDER_ID)
        path0 = f"/api/directory/listings/{demo_uuid('listing', 0)}"
        cases = {
            "fundability": lambda i: suite.http.get(
                f"{suite.gateway}/api/directory/listings/{listing(i)}/fundability", headers=advisor
            ),
            "listing (ETag)": lambda i: suite.http.get(
                f"{suite.gateway}/api/directory/listings/{listing(i)}"
            ),
            "ORUK page of 50": lambda i: suite.http.get(
                f"{suite.gateway}/oruk/services", params={"page": 1 + i % 4, "per_page": 50}
            ),
            "ORUK service": lambda i: suite.http.get(f"{suite.gateway}/oruk/services/{listing(i)}"),
            "ORUK near BN21, 5 km": lambda i: suite.http.get(
                f"{suite.gateway}/oruk/service_at_locations",
                params={"postcode": "BN21 4AB", "proximity": 5000},
            ),
        }

        def edit(i: int):
            tag = suite.http.get(suite.gateway + path0).headers["ETag"]
            return suite.http.patch(
                suite.gateway + path0,
                json={"description": f"Seafront gym, edit {i}."},
                headers={**provider, "If-Match": tag},
            )

        print(f"database: {'PostgreSQL' if postgres_available() else 'SQLite'}; {CALLS} calls each")
        for name, call in cases.items():
            p50, p95 = timed(call)
            print(f"| {name} | {p50:.1f} | {p95:.1f} |")
        p50, p95 = timed(edit, 50)
        print(f"| provider edit (GET + PATCH with If-Match) | {p50:.1f} | {p95:.1f} |")


if __name__ == "__main__":
    main()
