"""Alembic environment for the budget service's own database."""

from alembic import context

from services.budget.adapters.orm import Base
from shared.migrations import run_env

run_env(Base.metadata, context)
