"""How often started relays poll: a web process's, woken by its own commits, seldom; a worker's,
which no commit wakes, as configured."""

from __future__ import annotations

import pytest
from flask import Flask

from shared.config import ServiceSettings
from shared.registry import app_parts
from shared.server import start_background


class Recorded:
    def __init__(self) -> None:
        self.intervals: list[float] = []

    def start(self, interval: float = 0.5) -> None:
        self.intervals.append(interval)

    def stop(self) -> None:
        pass


@pytest.mark.parametrize(
    ("interval", "idle", "woken", "polls_every"),
    [
        (0.5, 2.0, True, 2.0),  # a web process's relay: its commits wake it
        (0.5, 2.0, False, 0.5),  # `phb worker`'s: nothing wakes it
        (3600.0, 2.0, True, 3600.0),  # never more often than PHB_RELAY_INTERVAL asks
        (0.1, 0.1, True, 0.1),
    ],
)
def test_a_relay_polls_as_its_process_and_settings_say(interval, idle, woken, polls_every):
    app = Flask(__name__)
    parts = app_parts(app)
    parts.relay_interval, parts.relay_idle_interval = interval, idle
    relay = Recorded()
    parts.background.append(relay)
    start_background(app, woken=woken)
    assert relay.intervals == [polls_every]


def test_the_idle_interval_is_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PHB_DEMO", "1")
    monkeypatch.setenv("PHB_RELAY_IDLE_INTERVAL", "7.5")
    monkeypatch.setenv("PHB_RELAY_INTERVAL", "0.25")
    settings = ServiceSettings.from_env("budget")
    assert (settings.relay_interval, settings.relay_idle_interval) == (0.25, 7.5)
    monkeypatch.delenv("PHB_RELAY_IDLE_INTERVAL")
    assert ServiceSettings.from_env("budget").relay_idle_interval == 2.0
