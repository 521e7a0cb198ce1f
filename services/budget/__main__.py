"""Run the budget service as an HTTP server: `python -m services.budget --port N`."""

from services.budget.app import create_app
from shared.server import run_service

if __name__ == "__main__":
    run_service("budget", create_app)
