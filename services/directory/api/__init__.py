"""The directory's HTTP API: one blueprint per resource."""

from flask_smorest import Blueprint

from services.directory.api.catalogue import admin_blp, listings_blp, providers_blp, taxonomy_blp
from services.directory.api.oruk import blp as oruk_blp
from services.directory.api.search.routes import blp as search_blp
from shared.whoami import whoami_blueprint


def blueprints() -> list[Blueprint]:
    return [
        whoami_blueprint(),
        search_blp,
        listings_blp,
        providers_blp,
        taxonomy_blp,
        admin_blp,
        oruk_blp,
    ]
