"""Alembic environment for the gateway's own database (web sessions, provider-user mapping)."""

from alembic import context

from services.gateway.tables import metadata
from shared.migrations import run_env

run_env(metadata, context)
