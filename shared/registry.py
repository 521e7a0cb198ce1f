"""What every app of the suite carries, typed: the pieces shared/ installs and reads back.

Two records, each kept under one key of `app.extensions` and read only through this module:
`AppParts` (any app: the gateway too) holds what runs beside the web process and what watches
it; `ServiceCore` (the apps `shared.app.create_service_app` builds) holds the settings, the
database, the readiness checks and the API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from flask import Flask, Response, current_app

if TYPE_CHECKING:
    from shared.config import ServiceSettings
    from shared.db import Database
    from shared.outbox import OutboxRelay

PARTS = "phb_parts"
CORE = "phb_core"

ReadyCheck = Callable[[], dict[str, Any] | None]
Observer = Callable[[Response, float], None]


class Background(Protocol):
    """Something that runs beside the web process (an outbox relay, the search sync)."""

    def start(self, interval: float = 0.5) -> None: ...

    def stop(self) -> None: ...


@dataclass
class AppParts:
    """Filled in while an app is built; read by the server, the worker, metrics and tracing."""

    relay_interval: float = 0.5
    relay_idle_interval: float = 2.0
    relays: dict[str, OutboxRelay] = field(default_factory=dict)
    background: list[Background] = field(default_factory=list)
    metric_observers: list[Observer] = field(default_factory=list)
    tracer_provider: Any | None = None


@dataclass
class ServiceCore:
    """A service's settings and database, built once by `create_service_app`."""

    settings: ServiceSettings
    db: Database
    ready_checks: dict[str, ReadyCheck] = field(default_factory=dict)


def _app(app: Flask | None) -> Flask:
    return app if app is not None else current_app


def app_parts(app: Flask | None = None) -> AppParts:
    """The app's parts (`current_app`'s unless named), made empty the first time they are asked."""
    parts = _app(app).extensions.setdefault(PARTS, AppParts())
    assert isinstance(parts, AppParts)
    return parts


def install_core(app: Flask, core: ServiceCore) -> None:
    app.extensions[CORE] = core
    parts = app_parts(app)
    parts.relay_interval = core.settings.relay_interval
    parts.relay_idle_interval = core.settings.relay_idle_interval


def service_core(app: Flask | None = None) -> ServiceCore:
    """The settings and database of a service app (`current_app` unless named)."""
    core = _app(app).extensions[CORE]
    assert isinstance(core, ServiceCore)
    return core
