"""Inbound mail throughput: 500 messages end to end (signed webhook -> S3 + queue -> worker ->
ticket) beside parsing the same 500 messages alone, in the same run; then one ~20 MB mail
through Mailgun's store-and-notify path (the worker fetches it), timed against the worker's
budget per stored message.

Both passes are warmed up first (a pass of other messages into the same workspace, so
imports, clients and connections are made before timing).  Prints messages per second for
both; the app's own time end to end (the wall time less the time spent waiting on AWS calls,
which the emulator serves locally and DynamoDB serves in a few ms) against parse-only time;
and the AWS calls the worker makes per message, for a new ticket and for a reply, with a
verdict line against each target.  The messages mix new conversations with replies that
thread into them, some with attachments.

    .venv/bin/python bench/mail_ingest.py [--messages 500] [--strict]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import _emulator  # first: it sets the environment the settings read


def build_deliveries(count: int, inbound: str, run: str = "bench") -> list[tuple[bytes, str]]:
    from fakes.mailgun import InboundAttachment, inbound_form

    deliveries = []
    for n in range(count):
        customer = f"{run}-customer{n % 50}@example.test"
        fields: dict = {
            "recipient": inbound,
            "sender": customer,
            "subject": f"Order {n % 50} question",
            "body_plain": f"Hello,\n\nMessage {n}.\n\nOn Mon, Ann wrote:\n> earlier text\n",
            "body_html": f"<p>Hello,</p><p>Message {n}.</p><blockquote>earlier</blockquote>",
            "message_id": f"<{run}-{n}@example.test>",
            "signing_key": "bench-signing-key",
        }
        if n >= 50:  # replies to the first message of the same customer
            fields["in_reply_to"] = f"<{run}-{n % 50}@example.test>"
        if n % 10 == 0:
            fields["attachments"] = [InboundAttachment("log.txt", "text/plain", b"x" * 4096)]
        deliveries.append(inbound_form(**fields))
    return deliveries


def parse_only(deliveries: list[tuple[bytes, str]]) -> float:
    from chalicelib.http_forms import parse_form
    from chalicelib.mail.inbound import parse_mailgun_form
    from chalicelib.mail.replies import visible_reply
    from chalicelib.mail.sanitize import sanitize_html

    started = time.perf_counter()
    for body, content_type in deliveries:
        form = parse_form(body, content_type)
        files = {k: (f.filename, f.content_type, f.content) for k, f in form.files.items()}
        mail = parse_mailgun_form(form.fields, files)
        visible_reply(mail.text, mail.html)
        sanitize_html(mail.html or "")
    return time.perf_counter() - started


# AWS calls the worker may make to file one message (a queue's URL, looked up once per
# container, not counted), by outcome: a new ticket, a reply into an existing one.
CALL_TARGETS = {"created": ("new ticket", 8), "appended": ("reply", 8)}


class WorkerCalls:
    """Counts botocore requests made while the inbound worker files each record, by the
    outcome of that record (created, appended, ...), and the time spent in every AWS call
    (webhook and worker) while installed."""

    def __init__(self) -> None:
        self.by_outcome: dict[str, list[int]] = {}
        self._current: list[str] | None = None
        self.aws_seconds = 0.0

    def install(self) -> Callable[[], None]:
        """Starts counting; returns what stops it."""
        import botocore.endpoint

        from chalicelib.tickets import mail_intake
        from chalicelib.workers import inbound_mail

        original_request = botocore.endpoint.Endpoint.make_request
        original_file_one = inbound_mail._file_one
        original_receive = mail_intake.receive_mail
        outcomes: list[str] = []

        def make_request(endpoint, operation_model, request_dict):
            if self._current is not None and operation_model.name != "GetQueueUrl":
                self._current.append(operation_model.name)
            started = time.perf_counter()
            try:
                return original_request(endpoint, operation_model, request_dict)
            finally:
                self.aws_seconds += time.perf_counter() - started

        def receive_mail(*args, **kwargs):
            intake = original_receive(*args, **kwargs)
            outcomes.append(intake.outcome)
            return intake

        def file_one(*args, **kwargs):
            self._current, outcomes[:] = [], []
            try:
                return original_file_one(*args, **kwargs)
            finally:
                outcome = outcomes[0] if outcomes else "not filed"
                self.by_outcome.setdefault(outcome, []).append(len(self._current))
                self._current = None

        botocore.endpoint.Endpoint.make_request = make_request  # type: ignore[method-assign]
        mail_intake.receive_mail = receive_mail
        inbound_mail._file_one = file_one

        def uninstall() -> None:
            botocore.endpoint.Endpoint.make_request = original_request  # type: ignore[method-assign]
            mail_intake.receive_mail = original_receive
            inbound_mail._file_one = original_file_one

        return uninstall

    def report(self) -> list[str]:
        lines = []
        for outcome, counts in sorted(self.by_outcome.items()):
            mean = sum(counts) / len(counts)
            lines.append(
                f"aws calls    {outcome:9} {len(counts):4} messages  {mean:5.1f} per message "
                f"(min {min(counts)}, max {max(counts)})"
            )
        return lines

    def verdicts(self) -> list[tuple[bool, str]]:
        """One (met, line) per target, from the mean calls per message."""
        verdicts = []
        for outcome, (label, target) in CALL_TARGETS.items():
            counts = self.by_outcome.get(outcome)
            if not counts:
                verdicts.append((False, f"verdict      {label}: no message measured: FAILED"))
                continue
            mean = sum(counts) / len(counts)
            met = mean <= target
            verdicts.append(
                (
                    met,
                    f"verdict      {label}: {mean:.1f} AWS calls per message (max {max(counts)}),"
                    f" target <= {target}: {'ok' if met else 'OVER'}",
                )
            )
        return verdicts


def end_to_end(
    client, deliveries: list[tuple[bytes, str]], calls: WorkerCalls | None = None
) -> float:
    from app import app
    from devstack.pump import EventPump

    pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
    [worker] = [q for q in pump.queues if q.name == "inbound_mail_worker"]
    uninstall = calls.install() if calls is not None else None
    started = time.perf_counter()
    for body, content_type in deliveries:
        response = client.http.post(
            "/v1/webhooks/mailgun/inbound", headers={"Content-Type": content_type}, body=body
        )
        assert response.status_code == 200, response.body
    while True:
        outcome = pump.poll_queue(worker)
        if not outcome.received:
            break
        assert outcome.failed == 0
    if uninstall is not None:
        uninstall()
    return time.perf_counter() - started


def large_stored(client, inbound: str, mailgun) -> tuple[float, int]:
    """One ~20 MB mail with attachments through a store() notification: webhook, queue, the
    worker's fetch from (fake) Mailgun, S3, parsing, attachments, ticket.  (seconds, bytes)"""
    import os
    from email.message import EmailMessage

    from app import app
    from devstack.pump import EventPump

    mail = EmailMessage()
    mail["From"] = "Dana <dana@surveys.test>"
    mail["To"] = inbound
    mail["Subject"] = "Survey with photos"
    mail["Message-ID"] = "<bench-large@surveys.test>"
    mail.set_content("Survey attached.")
    for name, size in (("survey.pdf", 10 * 1024 * 1024), ("photo.jpg", 4 * 1024 * 1024)):
        mail.add_attachment(os.urandom(size), "application", "octet-stream", filename=name)
    raw = mail.as_bytes()
    message_url = mailgun.store(raw, recipient=inbound)
    body, content_type = mailgun.stored_notification(
        raw, message_url=message_url, recipient=inbound
    )
    pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
    [worker] = [q for q in pump.queues if q.name == "inbound_mail_worker"]
    started = time.perf_counter()
    response = client.http.post(
        "/v1/webhooks/mailgun/stored", headers={"Content-Type": content_type}, body=body
    )
    assert response.status_code == 200, response.body
    while True:
        outcome = pump.poll_queue(worker)
        if not outcome.received:
            break
        assert outcome.failed == 0
    return time.perf_counter() - started, len(raw)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    import os

    from fakes.mailgun import FakeMailgun

    # Stored messages are fetched from a local Mailgun stand-in.
    mailgun = FakeMailgun(api_key="key-bench", webhook_signing_key="bench-signing-key").start()
    os.environ["MAILGUN_API_BASE"] = mailgun.url
    server = _emulator.start()
    try:
        from chalice.test import Client

        from app import app

        with Client(app, stage_name="bench") as client:
            owner = json.loads(
                client.http.post(
                    "/v1/signup",
                    headers={"Content-Type": "application/json"},
                    body=json.dumps(
                        {
                            "workspace_name": "Bench",
                            "name": "Bench",
                            "email": "bench@helptal.test",
                            "password": "bench-password-123",
                        }
                    ),
                ).body
            )
            client.http.put(
                "/v1/mail/settings",
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {owner['token']}",
                },
                body=json.dumps({"sender_rate_per_hour": 10_000}),
            )
            inbound = owner["workspace"]["inbound_address"]
            # Warm-up: both passes once over other messages (other senders, other threads).
            warm_up = build_deliveries(min(args.messages, 100), inbound, run="warm")
            parse_only(warm_up)
            end_to_end(client, warm_up)
            deliveries = build_deliveries(args.messages, inbound)
            parse_seconds = parse_only(deliveries)
            calls = WorkerCalls()
            e2e_seconds = end_to_end(client, deliveries, calls)
            large_seconds, large_bytes = large_stored(
                client, owner["workspace"]["inbound_address"], mailgun
            )
            tickets = json.loads(
                client.http.get(
                    "/v1/inbox/counts", headers={"Authorization": f"Bearer {owner['token']}"}
                ).body
            )
        n = args.messages
        print(
            f"parse only   {n} messages in {parse_seconds:6.2f} s  {n / parse_seconds:8.1f} msg/s"
        )
        print(
            f"end to end   {n} messages in {e2e_seconds:6.2f} s  {n / e2e_seconds:8.1f} msg/s "
            f"(webhook, S3, queue, worker, tickets; one process, emulated AWS)"
        )
        print(f"ratio end-to-end / parse-only time: {e2e_seconds / parse_seconds:.1f}")
        app_seconds = e2e_seconds - calls.aws_seconds
        print(
            f"app's own    {n} messages in {app_seconds:6.2f} s  {n / app_seconds:8.1f} msg/s "
            f"(end to end less {calls.aws_seconds:.2f} s waiting on AWS calls); "
            f"{app_seconds / parse_seconds:.1f} x parse-only time"
        )
        for line in calls.report():
            print(line)
        verdicts = calls.verdicts()
        for _, line in verdicts:
            print(line)
        from chalicelib.workers.inbound_mail import STORED_FETCH_SECONDS

        verdict = "ok" if large_seconds <= STORED_FETCH_SECONDS else "TOO SLOW"
        print(
            f"large stored 1 message of {large_bytes / 1024 / 1024:.1f} MB in "
            f"{large_seconds:6.2f} s (notification, fetch, S3, parse, attachments); target "
            f"<= {STORED_FETCH_SECONDS} s, the worker's budget per stored message: {verdict}"
        )
        print(f"tickets now: {tickets['by_status']}")
    finally:
        server.stop()
        mailgun.stop()
    return 1 if args.strict and not all(met for met, _ in verdicts) else 0


if __name__ == "__main__":
    raise SystemExit(main())
