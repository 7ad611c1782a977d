"""The HTTP integration API for the verksamhetssystem (issue #6): commands, reads, event feed,
import/export and webhooks, behind bearer-token authentication and the access log.

``create_app`` is the only entry point; every dependency (store, Temporal client, settings) is
passed in, so the same app runs under ``barnflow api``, ``barnflow dev`` and the tests. Importing
this package is cheap and imports no routes (the worker imports ``infra.persistence.db`` for
webhooks, and the routes import ``infra.temporal.commands``, which builds the worker).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from infra.api.services import Services


def create_app(services: Services | None) -> FastAPI:
    from infra.api.app import create_app as build

    return build(services)


__all__ = ["create_app"]
