"""The gateway's in-memory rate-limit storage: fixed windows that reset, and no thread per call."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from services.gateway.limits import LazyMemoryStorage


def test_demo_modes_in_memory_limits_use_the_lazy_storage():
    from services.gateway.limits import install_limits

    settings = SimpleNamespace(ratelimit_storage="memory://", ratelimit_enabled=True)
    limiter = install_limits(settings)  # type: ignore[arg-type]
    assert isinstance(limiter.storage, LazyMemoryStorage)
    assert isinstance(storage_from_string("phb-memory://"), LazyMemoryStorage)


def test_a_window_counts_up_to_its_limit_and_starts_afresh_when_it_ends():
    limiter = FixedWindowRateLimiter(LazyMemoryStorage())
    limit = parse("3 per 1 second")
    assert [limiter.hit(limit, "alice") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(limit, "bob")  # another caller has a count of its own
    time.sleep(1.05)
    assert [limiter.hit(limit, "alice") for _ in range(4)] == [True, True, True, False]


def test_counting_starts_no_threads():
    before = threading.active_count()
    storage = LazyMemoryStorage()
    for i in range(300):
        storage.incr(f"key-{i % 7}", 60)
        if i % 50 == 0:
            time.sleep(0.02)  # longer than MemoryStorage's 10 ms timer
    assert threading.active_count() == before
    assert storage.get("key-0") == 43


def test_expired_counters_are_swept():
    storage = LazyMemoryStorage()
    storage.SWEEP_EVERY = 0.0
    for i in range(50):
        storage.incr(f"caller-{i}", 0.01)
    time.sleep(0.03)
    storage.incr("someone-else", 60)
    assert set(storage.storage) == {"someone-else"}
    assert set(storage.expirations) == {"someone-else"}
