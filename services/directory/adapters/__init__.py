"""Adapters: the ORM, repositories, HTTP clients."""
