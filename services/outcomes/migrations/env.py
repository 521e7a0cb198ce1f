"""Alembic environment for the outcomes service's own database."""

from alembic import context

from services.outcomes.adapters.orm import Base
from shared.migrations import run_env

run_env(Base.metadata, context)
