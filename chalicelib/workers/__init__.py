"""SQS and schedule handlers: thin, idempotent, reporting partial batch failures."""

from __future__ import annotations

from chalice import Chalice


def register_workers(app: Chalice) -> None:
    from chalicelib.workers.ai_jobs import ai_jobs_bp
    from chalicelib.workers.booking_jobs import booking_jobs_bp
    from chalicelib.workers.booking_reminders import booking_reminders_bp
    from chalicelib.workers.custom_hostnames import custom_hostnames_bp
    from chalicelib.workers.inbound_mail import inbound_mail_bp
    from chalicelib.workers.mail_out import mail_out_bp
    from chalicelib.workers.notifications import notifications_bp
    from chalicelib.workers.search_indexer import search_indexer_bp

    app.register_blueprint(mail_out_bp)
    app.register_blueprint(inbound_mail_bp)
    app.register_blueprint(search_indexer_bp)
    app.register_blueprint(ai_jobs_bp)
    app.register_blueprint(custom_hostnames_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(booking_jobs_bp)
    app.register_blueprint(booking_reminders_bp)

    from chalicelib.workers.calendar_channels import calendar_channels_bp

    app.register_blueprint(calendar_channels_bp)

    from chalicelib.workers.billing_dunning import billing_dunning_bp
    from chalicelib.workers.billing_events import billing_events_bp

    app.register_blueprint(billing_events_bp)
    app.register_blueprint(billing_dunning_bp)

    from chalicelib.workers.subprocessor_notices import subprocessor_notices_bp

    app.register_blueprint(subprocessor_notices_bp)

    from chalicelib.workers.privacy_jobs import privacy_jobs_bp

    app.register_blueprint(privacy_jobs_bp)

    from chalicelib.workers.privacy_retention import privacy_retention_bp
    from chalicelib.workers.workspace_deletion import workspace_deletion_bp

    app.register_blueprint(privacy_retention_bp)
    app.register_blueprint(workspace_deletion_bp)
