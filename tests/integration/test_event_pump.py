"""The local event pump delivers queue messages and schedule ticks the way Lambda does."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
from chalice import Blueprint, Chalice, Rate

from devstack.pump import EventPump, Schedule

MAX_RECEIVE_COUNT = 3


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def queue_pair(aws):
    """A fresh queue whose failed messages go to its DLQ after 3 receives."""
    sqs = aws.client("sqs")
    name = f"pump-test-{uuid.uuid4().hex[:8]}"
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
    redrive = {
        "deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"],
        "maxReceiveCount": MAX_RECEIVE_COUNT,
    }
    queue_url = sqs.create_queue(
        QueueName=name,
        Attributes={"VisibilityTimeout": "1", "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    yield name, queue_url, dlq_url
    sqs.delete_queue(QueueUrl=queue_url)
    sqs.delete_queue(QueueUrl=dlq_url)


class PumpTestApp:
    """A Chalice app with one SQS worker (fails on "boom", raises on "explode") and a tick."""

    def __init__(self, queue_name: str):
        self.deliveries: list[dict] = []
        self.ticks: list[dict] = []
        self.app = Chalice(app_name="pump-test")
        blueprint = Blueprint(__name__)

        @blueprint.on_sqs_message(queue=queue_name, batch_size=10, name="echo_worker")
        def echo_worker(event):
            failures = []
            for record in event:
                raw = record.to_dict()
                self.deliveries.append(raw)
                if "explode" in record.body:
                    raise RuntimeError("worker crashed")
                if "boom" in record.body:
                    failures.append({"itemIdentifier": raw["messageId"]})
            return {"batchItemFailures": failures}

        @blueprint.schedule(Rate(1, unit=Rate.MINUTES), name="tick")
        def tick(event):
            self.ticks.append(event.to_dict())

        self.app.register_blueprint(blueprint)

    def bodies(self) -> list[str]:
        return [delivery["body"] for delivery in self.deliveries]


def _pump(aws, app: Chalice, clock=time.time) -> EventPump:
    return EventPump.from_app(
        app, sqs=aws.client("sqs"), region=aws.region, max_backoff_seconds=0, clock=clock
    )


def _messages_left(sqs, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _send(sqs, queue_url: str, *bodies: str) -> None:
    sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)],
    )


def test_records_the_handler_accepts_are_deleted(aws, queue_pair):
    name, queue_url, _ = queue_pair
    sqs = aws.client("sqs")
    worker = PumpTestApp(name)
    pump = _pump(aws, worker.app)
    _send(sqs, queue_url, "first", "second")

    for _ in range(5):
        assert pump.poll_queue(pump.queues[0]).failed == 0
        if len(worker.deliveries) == 2:
            break

    assert sorted(worker.bodies()) == ["first", "second"]
    assert _messages_left(sqs, queue_url) == 0


def test_handler_gets_a_lambda_sqs_event(aws, queue_pair):
    name, queue_url, _ = queue_pair
    sqs = aws.client("sqs")
    worker = PumpTestApp(name)
    pump = _pump(aws, worker.app)
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody="hello",
        MessageAttributes={"workspace_id": {"DataType": "String", "StringValue": "ws-1"}},
    )

    for _ in range(5):
        if pump.poll_queue(pump.queues[0]).received:
            break

    (record,) = worker.deliveries
    assert record["body"] == "hello"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(f":{name}")
    assert record["awsRegion"] == aws.region
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["workspace_id"]["stringValue"] == "ws-1"
    assert {"messageId", "receiptHandle", "md5OfBody"} <= set(record)


def test_failed_records_are_retried_then_land_in_the_dead_letter_queue(aws, queue_pair):
    name, queue_url, dlq_url = queue_pair
    sqs = aws.client("sqs")
    worker = PumpTestApp(name)
    pump = _pump(aws, worker.app)
    _send(sqs, queue_url, "fine", "boom")

    for _ in range(20):
        pump.poll_queue(pump.queues[0])
        if _messages_left(sqs, queue_url) == 0:
            break

    assert worker.bodies().count("fine") == 1
    boom_receive_counts = [
        d["attributes"]["ApproximateReceiveCount"] for d in worker.deliveries if d["body"] == "boom"
    ]
    assert boom_receive_counts == [str(n) for n in range(1, MAX_RECEIVE_COUNT + 1)]
    dead = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages", [])
    assert [message["Body"] for message in dead] == ["boom"]


def test_a_handler_that_raises_fails_the_whole_batch(aws, queue_pair):
    name, queue_url, _ = queue_pair
    sqs = aws.client("sqs")
    worker = PumpTestApp(name)
    pump = _pump(aws, worker.app)
    _send(sqs, queue_url, "explode")

    outcome = pump.poll_queue(pump.queues[0])

    assert outcome.received == 1
    assert outcome.failed == 1
    assert _messages_left(sqs, queue_url) == 1


def test_a_delayed_message_is_delivered_only_once_its_delay_has_passed(aws, queue_pair):
    """As SQS does with DelaySeconds (the merge check relies on it)."""
    name, queue_url, _ = queue_pair
    sqs = aws.client("sqs")
    worker = PumpTestApp(name)
    pump = _pump(aws, worker.app)
    sent = time.monotonic()
    sqs.send_message(QueueUrl=queue_url, MessageBody="later", DelaySeconds=3)

    assert pump.poll_queue(pump.queues[0]).received == 0
    assert worker.deliveries == []
    while not worker.deliveries and time.monotonic() < sent + 15:
        pump.poll_queue(pump.queues[0])
    delivered_after = time.monotonic() - sent

    assert worker.bodies() == ["later"]
    assert delivered_after >= 3
    assert _messages_left(sqs, queue_url) == 0


def test_rate_schedule_fires_every_interval_with_a_scheduled_event(aws, queue_pair):
    name, _, _ = queue_pair
    clock = FakeClock()
    worker = PumpTestApp(name)
    pump = _pump(aws, worker.app, clock=clock)

    assert pump.fire_due_schedules() == []
    clock.now += 60
    assert pump.fire_due_schedules() == ["tick"]
    clock.now += 30
    assert pump.fire_due_schedules() == []
    clock.now += 30
    assert pump.fire_due_schedules() == ["tick"]

    assert len(worker.ticks) == 2
    event = worker.ticks[0]
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"][0].endswith(":rule/tick")


def test_firing_a_schedule_runs_it_once_with_the_time_asked_for(aws, queue_pair):
    name, _, _ = queue_pair
    worker = PumpTestApp(name)
    pump = _pump(aws, worker.app, clock=FakeClock())
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC).timestamp()

    pump.fire("tick", at)

    (event,) = worker.ticks
    assert event["time"] == "2026-12-01T09:30:00Z"
    assert event["resources"][0].endswith(":rule/tick")
    with pytest.raises(LookupError, match="the app's schedules: tick"):
        pump.fire("tock")
    assert len(worker.ticks) == 1


def test_running_pump_delivers_messages_until_stopped(aws, queue_pair):
    name, queue_url, _ = queue_pair
    sqs = aws.client("sqs")
    worker = PumpTestApp(name)
    pump = _pump(aws, worker.app)
    runner = threading.Thread(target=pump.run, daemon=True)
    runner.start()
    try:
        _send(sqs, queue_url, "while running")
        deadline = time.monotonic() + 10
        while not worker.deliveries and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        pump.stop()
        runner.join(timeout=10)

    assert worker.bodies() == ["while running"]
    assert not runner.is_alive()


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("rate(5 minutes)", "2026-11-28T12:00:00", "2026-11-28T12:05:00"),
        # AWS counts weekdays 1-7 from Sunday: 2-6 is Monday to Friday.
        ("cron(0 9 ? * 2-6 *)", "2026-11-28T12:00:00", "2026-11-30T09:00:00"),
        ("cron(30 2 1 * ? *)", "2026-11-28T12:00:00", "2026-12-01T02:30:00"),
        ("cron(0 0 1 1 ? 2030)", "2026-11-28T12:00:00", "2030-01-01T00:00:00"),
    ],
)
def test_schedule_expressions_follow_aws_semantics(expression, after, expected):
    start = datetime.fromisoformat(after).replace(tzinfo=UTC).timestamp()

    fired_at = datetime.fromtimestamp(Schedule.parse(expression).next_after(start), UTC)

    assert fired_at.replace(tzinfo=None).isoformat() == expected
