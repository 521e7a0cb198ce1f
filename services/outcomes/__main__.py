"""Run the outcomes service as an HTTP server: `python -m services.outcomes --port N`."""

from services.outcomes.app import create_app
from shared.server import run_service

if __name__ == "__main__":
    run_service("outcomes", create_app)
