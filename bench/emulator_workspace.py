"""The local emulator holds a real workspace: 10,000 tickets, each with its first message, its
requester (2,000 contacts) and the workspace's counters, opened through the ticket service
(`lifecycle.open_ticket`, the transaction the API and the mail intake use).

Prints the emulator's memory (RSS) and the median time per ticket for each 1,000 tickets.
Each ticket also puts `ticket.created` on the events queue; the local pump consumes those in
`make run`, here they are received and deleted every 100 tickets instead (moto's SendMessage
slows with the length of the queue it appends to: 12 ms at 1,000 waiting, 42 ms at 3,000).
Targets: RSS after 10,000 tickets < 1 GB; the last 1,000 tickets' median time per ticket
<= 1.5 x the first 1,000's (a steady cost per write).

    .venv/bin/python bench/emulator_workspace.py [--tickets 10000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import _emulator  # first: it sets the environment the settings read

WINDOW = 1000
CONTACTS = 2000
RSS_TARGET_MB = 1024
STEADY_TARGET = 1.5


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def empty(sqs: object, queue_url: str) -> None:
    """Receives and deletes what waits on the queue, as the pump would."""
    while received := sqs.receive_message(  # type: ignore[attr-defined]
        QueueUrl=queue_url, MaxNumberOfMessages=10
    ).get("Messages"):
        sqs.delete_message_batch(  # type: ignore[attr-defined]
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)
            ],
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=10_000)
    args = parser.parse_args(argv)
    server = _emulator.start()
    try:
        from chalice.test import Client

        from app import app
        from chalicelib import bootstrap
        from chalicelib.ids import new_id
        from chalicelib.settings import get_settings
        from chalicelib.tickets import lifecycle, model

        with Client(app, stage_name="bench") as client:
            signed_up = json.loads(
                client.http.post(
                    "/v1/signup",
                    headers={"Content-Type": "application/json"},
                    body=json.dumps(
                        {
                            "workspace_name": "Busy support",
                            "name": "Bench",
                            "email": "busy@helptal.test",
                            "password": "bench-password-123",
                        }
                    ),
                ).body
            )
        workspace_id = signed_up["workspace"]["id"]
        actor = f"user:{signed_up['user']['id']}"
        deps = bootstrap.ticket_deps()
        sqs = bootstrap.sqs_client()
        events_queue = sqs.get_queue_url(QueueName=get_settings().queues.events)["QueueUrl"]
        assert server.pid is not None
        print(f"emulator RSS empty: {rss_mb(server.pid):.0f} MB")
        print(f"{'tickets':>8}{'RSS MB':>9}{'ms/ticket (median of window)':>31}")
        windows: list[float] = []
        durations: list[float] = []
        for n in range(1, args.tickets + 1):
            new = lifecycle.NewTicket(
                requester_email=f"customer{n % CONTACTS}@example.test",
                requester_name=f"Customer {n % CONTACTS}",
                subject=f"Order {n} arrived damaged",
                channel=model.Channel.API,
                cc=[],
                tags=["shipping"] if n % 3 == 0 else [],
            )

            def first_message(ticket: model.Ticket, n: int = n) -> model.Message:
                text = f"Order {n}: the box was crushed and the mug inside broken. " * 8
                return model.Message(
                    id=new_id(),
                    ticket_id=ticket.id,
                    workspace_id=ticket.workspace_id,
                    kind=model.MessageKind.CUSTOMER,
                    author=actor,
                    from_address=None,
                    to=[],
                    cc=[],
                    subject=ticket.subject,
                    text=text,
                    html=f"<p>{text}</p>",
                    quoted_text=None,
                    message_id=None,
                    in_reply_to=[],
                    references=[],
                    attachments=[],
                    delivery=model.DeliveryStatus.RECEIVED,
                    created_at=ticket.created_at,
                )

            started = time.perf_counter()
            lifecycle.open_ticket(deps, workspace_id, actor, new, first_message)
            durations.append(time.perf_counter() - started)
            if n % 100 == 0:
                empty(sqs, events_queue)
            if n % WINDOW == 0:
                windows.append(statistics.median(durations[-WINDOW:]))
                print(f"{n:>8}{rss_mb(server.pid):>9.0f}{windows[-1] * 1000:>31.1f}")
        rss = rss_mb(server.pid)
        steady = windows[-1] / windows[0]
        rss_ok, steady_ok = rss < RSS_TARGET_MB, steady <= STEADY_TARGET
        print(
            f"RSS after {args.tickets} tickets {rss:.0f} MB (target < {RSS_TARGET_MB}): "
            f"{'PASS' if rss_ok else 'FAIL'}"
        )
        print(
            f"time per ticket, last {WINDOW} / first {WINDOW}: {steady:.2f} "
            f"(target <= {STEADY_TARGET}): {'PASS' if steady_ok else 'FAIL'}"
        )
        print("PASS" if rss_ok and steady_ok else "FAIL")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
