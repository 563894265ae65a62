"""HTTP API blueprints: each parses a request, calls one service, returns a schema."""

from __future__ import annotations

from chalice import Chalice


def register_api(app: Chalice) -> None:
    from chalicelib.api import (
        accounts,
        api_keys,
        canned,
        contacts,
        docs,
        health,
        join,
        kb,
        mail,
        members,
        tickets,
        webhooks,
        workspace,
    )

    for module in (
        health,
        accounts,
        workspace,
        members,
        api_keys,
        tickets,
        canned,
        contacts,
        kb,
        mail,
        webhooks,
        join,
        docs,
    ):
        app.register_blueprint(module.bp)
