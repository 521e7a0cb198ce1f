"""Run the gateway as an HTTP server: `python -m services.gateway --port N`."""

from services.gateway.app import create_app
from shared.server import run_service

if __name__ == "__main__":
    run_service("gateway", create_app)
