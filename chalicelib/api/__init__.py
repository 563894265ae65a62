"""HTTP API blueprints: each parses a request, calls one service, returns a schema."""

from __future__ import annotations

from chalice import Chalice


def register_api(app: Chalice) -> None:
    from chalicelib.api import (
        account_links,
        accounts,
        ai,
        ai_tickets,
        api_keys,
        canned,
        chat_settings,
        chat_visitor,
        contacts,
        docs,
        health,
        helpcentre_pages,
        helpcentre_settings,
        join,
        kb,
        kb_search,
        mail,
        members,
        notifications,
        profile,
        ticket_changes,
        ticket_live,
        tickets,
        webhooks,
        workspace,
    )

    for module in (
        health,
        accounts,
        account_links,
        workspace,
        profile,
        ai,
        members,
        api_keys,
        tickets,
        ticket_changes,
        notifications,
        ai_tickets,
        canned,
        contacts,
        kb,
        helpcentre_settings,
        kb_search,
        mail,
        webhooks,
        join,
        docs,
        helpcentre_pages,
        chat_settings,
        chat_visitor,
        ticket_live,
    ):
        app.register_blueprint(module.bp)

    from chalicelib.api import chat_widget

    app.register_blueprint(chat_widget.bp)
    # The chat widget's script is answered gzipped: bytes that pass through as binary.
    app.api.binary_types.append(chat_widget.JAVASCRIPT)

    from chalicelib.api import chat_insights

    app.register_blueprint(chat_insights.bp)

    from chalicelib.api import live

    app.register_blueprint(live.bp)

    from chalicelib.api import booking_pages

    app.register_blueprint(booking_pages.bp)

    from chalicelib.api import calendars

    app.register_blueprint(calendars.bp)

    from chalicelib.api import booking_admin, booking_public

    app.register_blueprint(booking_admin.bp)
    app.register_blueprint(booking_public.bp)

    from chalicelib.api import billing, billing_webhooks

    app.register_blueprint(billing.bp)
    app.register_blueprint(billing_webhooks.bp)

    from chalicelib.api import legal_pages, public_subprocessors

    app.register_blueprint(legal_pages.bp)
    app.register_blueprint(public_subprocessors.bp)

    from chalicelib.api import legal_subscriptions

    app.register_blueprint(legal_subscriptions.bp)

    from chalicelib.api import privacy

    app.register_blueprint(privacy.bp)

    from chalicelib.api import privacy_exports

    app.register_blueprint(privacy_exports.bp)

    from chalicelib.api import privacy_erasures

    app.register_blueprint(privacy_erasures.bp)

    from chalicelib.api import privacy_retention, workspace_deletion

    app.register_blueprint(privacy_retention.bp)
    app.register_blueprint(workspace_deletion.bp)
