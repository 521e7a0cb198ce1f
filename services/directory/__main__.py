"""Run the directory service as an HTTP server: `python -m services.directory --port N`."""

from services.directory.app import create_app
from shared.server import run_service

if __name__ == "__main__":
    run_service("directory", create_app)
