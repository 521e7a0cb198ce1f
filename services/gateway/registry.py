"""The gateway's app services, typed: what `create_app` built and the views, hooks and commands use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from authlib.integrations.flask_client import OAuth

    from services.gateway.limits import RateLimits
    from services.gateway.sessions import SessionStore
    from services.gateway.settings import GatewaySettings
    from services.gateway.tokens import UserTokenVerifier
    from services.gateway.upstream import CurlForwarder
    from shared.config import ServiceSettings
    from shared.db import Database
    from shared.http import ServiceClient

EXTENSION = "phb_gateway"


@dataclass(frozen=True)
class GatewayServices:
    """Built once at start-up and passed in: nothing is looked up by name at call time."""

    settings: ServiceSettings  # the services' addresses and the internal token signer
    security: GatewaySettings  # sign-in, sessions, limits, headers, the council's facts
    db: Database  # the gateway's own database: web sessions and provider users
    sessions: SessionStore
    verifier: UserTokenVerifier  # bearer tokens on /api/...
    clients: Mapping[str, ServiceClient]  # one per service, by name
    upstreams: Mapping[str, CurlForwarder]  # the API proxy's forwarding, one per service
    limiter: RateLimits  # the rate limits and the store they count in
    oidc: OAuth | None  # None unless OIDC sign-in is configured


def install(app: Flask, services: GatewayServices) -> None:
    app.extensions[EXTENSION] = services


def gateway_services(app: Flask | None = None) -> GatewayServices:
    """The gateway's services (`current_app`'s unless named)."""
    services = (app if app is not None else current_app).extensions[EXTENSION]
    assert isinstance(services, GatewayServices)
    return services
