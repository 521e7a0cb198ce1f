"""The outcomes models and migrations describe the same tables."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.components import package
from services.outcomes.adapters.orm import Base
from shared.db import make_engine
from shared.migrations import upgrade


def test_models_match_migrations(tmp_path):
    url = f"sqlite:///{tmp_path / 'o.db'}"
    upgrade(package("outcomes"), url)
    engine = make_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []
