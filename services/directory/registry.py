"""The directory's app services, typed: what `create_app` built and the views and commands use."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from services.directory.adapters.geocode import Geocoder
from services.directory.search.backend import SearchBackend
from services.directory.service_layer.search_log_writer import SearchLogWriter
from services.directory.service_layer.unit_of_work import UnitOfWork
from services.directory.settings import DirectorySettings

EXTENSION = "phb_directory"


@dataclass(frozen=True)
class DirectoryServices:
    """Built once at start-up and passed in: nothing is looked up by name at call time."""

    settings: DirectorySettings
    uow: UnitOfWork
    geocoder: Geocoder
    search: SearchBackend
    search_log: SearchLogWriter  # the search log's rows, written in batches off the request


def install(app: Flask, services: DirectoryServices) -> None:
    app.extensions[EXTENSION] = services


def directory_services(app: Flask | None = None) -> DirectoryServices:
    """The directory app's services (`current_app`'s unless named: jobs run outside a request)."""
    services = (app if app is not None else current_app).extensions[EXTENSION]
    assert isinstance(services, DirectoryServices)
    return services
