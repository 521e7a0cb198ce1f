"""Alembic environment for the directory service's own database."""

from alembic import context

from services.directory.adapters.orm import Base
from shared.migrations import run_env

run_env(Base.metadata, context)
