"""Alembic migrations of the registry database (package data, run by ``migrate.upgrade``)."""
