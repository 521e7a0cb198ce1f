"""The directory's HTTP API: one package per resource, each with its routes and schemas."""

from flask_smorest import Blueprint

from services.directory.api.listings.routes import blp as listings_blp
from services.directory.api.organizations.routes import blp as providers_blp
from services.directory.api.oruk.routes import blp as oruk_blp
from services.directory.api.records.routes import blp as records_blp
from services.directory.api.search.routes import blp as search_blp
from services.directory.api.taxonomy_terms.routes import blp as taxonomy_blp
from shared.whoami import whoami_blueprint


def blueprints() -> list[Blueprint]:
    return [
        whoami_blueprint(),
        search_blp,
        listings_blp,
        providers_blp,
        taxonomy_blp,
        records_blp,
        oruk_blp,
    ]
