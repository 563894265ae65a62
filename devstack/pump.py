"""The local event pump: plays Lambda's part for the app's queues and schedules.

moto and LocalStack keep queues but run no Lambdas, so the pump long-polls every queue an
`@on_sqs_message` handler reads, hands the handler a real Lambda SQS event, deletes the
records that succeeded and leaves the failed ones for SQS to redeliver (and, after the
queue's maxReceiveCount, to move to the dead-letter queue). It also fires every
`@schedule` handler on its rate or cron with a real CloudWatch scheduled event.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import EndpointConnectionError
from chalice import Chalice
from chalice.app import ScheduledEventConfig, SQSEventConfig
from chalice.local import LambdaContext
from croniter import croniter

log = logging.getLogger("devstack.pump")

Handler = Callable[[dict[str, Any], Any], Any]

ACCOUNT_ID = "123456789012"
DEFAULT_TIMEOUT_SECONDS = 30
DEFAULT_MEMORY_MB = 256


def resolve_handler(app: Chalice, name: str, handler_string: str) -> Handler:
    """The Lambda entry point of an event source: `module.attr` of its handler string.

    Falls back to the app's handler map when the module cannot be imported by name (an app
    defined inside a test module, for instance).
    """
    module_name, _, attr = handler_string.rpartition(".")
    try:
        handler: Handler = getattr(importlib.import_module(module_name), attr)
        return handler
    except (ImportError, AttributeError):
        return app.handler_map[name]


def lambda_context(function_name: str, timeout_seconds: int | None = None) -> Any:
    """The context Lambda gives `function_name`: its timeout as configured for the dev stage
    in `.chalice/config.json` (what `context.get_remaining_time_in_millis()` counts down)."""
    seconds = timeout_seconds or function_timeouts().get(function_name, DEFAULT_TIMEOUT_SECONDS)
    return LambdaContext(function_name, DEFAULT_MEMORY_MB, max_runtime_ms=seconds * 1000)


@functools.lru_cache(maxsize=1)
def function_timeouts(stage: str = "dev") -> dict[str, int]:
    """Function name -> `lambda_timeout` of `stage` in `.chalice/config.json`."""
    from infra.template import CHALICE_CONFIG

    config = json.loads(CHALICE_CONFIG.read_text())
    functions = config["stages"][stage].get("lambda_functions", {})
    return {
        name: int(settings["lambda_timeout"])
        for name, settings in functions.items()
        if "lambda_timeout" in settings
    }


# --- SQS ---------------------------------------------------------------------------------


@dataclass
class QueueSubscription:
    """One `@on_sqs_message` handler and the queue it reads."""

    name: str
    queue_name: str
    queue_url: str
    queue_arn: str
    batch_size: int
    handler: Handler


@dataclass(frozen=True)
class BatchOutcome:
    received: int = 0
    deleted: int = 0
    failed: int = 0


def _lambda_message_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    for name, attribute in attributes.items():
        value: dict[str, Any] = {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": attribute["DataType"],
        }
        if "StringValue" in attribute:
            value["stringValue"] = attribute["StringValue"]
        if "BinaryValue" in attribute:
            value["binaryValue"] = base64.b64encode(attribute["BinaryValue"]).decode()
        converted[name] = value
    return converted


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda passes to an SQS-triggered function for these received messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": _lambda_message_attributes(
                    message.get("MessageAttributes", {})
                ),
                "md5OfBody": message.get("MD5OfBody")
                or hashlib.md5(message["Body"].encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def failed_message_ids(response: Any, message_ids: list[str]) -> set[str]:
    """Message ids the handler reported as failed (`batchItemFailures`); unknown ids = all."""
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return set()
    failed = {str(item.get("itemIdentifier")) for item in response["batchItemFailures"]}
    # Lambda treats an identifier it did not send as a failure of the whole batch.
    return failed if failed <= set(message_ids) else set(message_ids)


# --- schedules -----------------------------------------------------------------------------

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_DOW_NUMBER = re.compile(r"(?<![A-Za-z#])(\d+)")


def _aws_day_of_week_to_cron(field_text: str) -> str:
    """AWS numbers days 1-7 from Sunday; croniter 0-6. `#n` (nth weekday) is kept as is."""

    def shift(match: re.Match[str]) -> str:
        return str(int(match.group(1)) - 1)

    parts = []
    for part in field_text.split(","):
        day, hash_sign, nth = part.partition("#")
        parts.append(_DOW_NUMBER.sub(shift, day) + hash_sign + nth)
    return ",".join(parts)


def _year_matches(field_text: str, year: int) -> bool:
    if field_text == "*":
        return True
    for part in field_text.split(","):
        start, _, end = part.partition("-")
        if int(start) <= year <= int(end or start):
            return True
    return False


@dataclass
class Schedule:
    """A CloudWatch schedule expression (`rate(...)` or 6-field AWS `cron(...)`)."""

    expression: str
    interval: float | None = None
    cron: str | None = None
    years: str = "*"

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        text = expression.strip()
        rate = _RATE.match(text)
        if rate:
            unit = rate.group(2).rstrip("s")
            return cls(text, interval=int(rate.group(1)) * _UNIT_SECONDS[unit])
        cron = _CRON.match(text)
        if cron:
            fields = cron.group(1).split()
            if len(fields) != 6:
                raise ValueError(f"AWS cron needs 6 fields, got {expression!r}")
            minute, hour, day_of_month, month, day_of_week, year = fields
            five = [
                minute,
                hour,
                day_of_month.replace("?", "*"),
                month,
                _aws_day_of_week_to_cron(day_of_week.replace("?", "*")),
            ]
            return cls(text, cron=" ".join(five), years=year)
        raise ValueError(f"unsupported schedule expression {expression!r}")

    def next_after(self, moment: float) -> float:
        """Epoch seconds of the first firing strictly after `moment`."""
        if self.interval is not None:
            return moment + self.interval
        assert self.cron is not None
        start = datetime.fromtimestamp(moment, UTC)
        iterator = croniter(self.cron, start)
        for _ in range(10_000):
            candidate: datetime = iterator.get_next(datetime)
            if _year_matches(self.years, candidate.year):
                return candidate.timestamp()
        return float("inf")


@dataclass
class ScheduleSubscription:
    name: str
    schedule: Schedule
    handler: Handler
    next_fire: float = 0.0


def scheduled_event(rule_name: str, fired_at: float, region: str) -> dict[str, Any]:
    """The event CloudWatch Events passes to a scheduled Lambda."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.fromtimestamp(fired_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }


# --- the pump ------------------------------------------------------------------------------


@dataclass
class EventPump:
    """Delivers queue messages and schedule ticks to the handlers of a Chalice app."""

    queues: list[QueueSubscription]
    schedules: list[ScheduleSubscription]
    sqs: Any
    region: str
    wait_seconds: int = 1
    max_backoff_seconds: int = 30
    clock: Callable[[], float] = time.time
    _stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def from_app(
        cls,
        app: Chalice,
        *,
        sqs: Any | None = None,
        region: str | None = None,
        wait_seconds: int = 1,
        max_backoff_seconds: int = 30,
        clock: Callable[[], float] = time.time,
    ) -> EventPump:
        """Subscribe to every SQS and schedule event source of `app`.

        The queues must exist (see `devstack.resources`); `sqs` defaults to a client on
        `AWS_ENDPOINT_URL`.
        """
        session = boto3.session.Session(region_name=region)
        sqs = sqs or session.client("sqs")
        region = region or sqs.meta.region_name
        queues: list[QueueSubscription] = []
        schedules: list[ScheduleSubscription] = []
        for source in app.event_sources:
            if isinstance(source, SQSEventConfig):
                queue_name = source.queue or (source.queue_arn or "").rsplit(":", 1)[-1]
                queue_url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
                queue_arn = sqs.get_queue_attributes(
                    QueueUrl=queue_url, AttributeNames=["QueueArn"]
                )["Attributes"]["QueueArn"]
                queues.append(
                    QueueSubscription(
                        name=source.name,
                        queue_name=queue_name,
                        queue_url=queue_url,
                        queue_arn=queue_arn,
                        batch_size=source.batch_size,
                        handler=resolve_handler(app, source.name, source.handler_string),
                    )
                )
            elif isinstance(source, ScheduledEventConfig):
                expression = source.schedule_expression
                text = expression if isinstance(expression, str) else expression.to_string()
                schedule = Schedule.parse(text)
                schedules.append(
                    ScheduleSubscription(
                        name=source.name,
                        schedule=schedule,
                        handler=resolve_handler(app, source.name, source.handler_string),
                        next_fire=schedule.next_after(clock()),
                    )
                )
        return cls(
            queues=queues,
            schedules=schedules,
            sqs=sqs,
            region=region,
            wait_seconds=wait_seconds,
            max_backoff_seconds=max_backoff_seconds,
            clock=clock,
        )

    def backoff_seconds(self, receive_count: int) -> int:
        """How long a failed record stays invisible before its next delivery."""
        return int(min(2**receive_count, self.max_backoff_seconds))

    def poll_queue(self, subscription: QueueSubscription) -> BatchOutcome:
        """Receive one batch from the queue, run the handler, settle every record."""
        response = self.sqs.receive_message(
            QueueUrl=subscription.queue_url,
            MaxNumberOfMessages=max(1, min(subscription.batch_size, 10)),
            WaitTimeSeconds=self.wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        if not messages:
            return BatchOutcome()
        event = sqs_event(messages, subscription.queue_arn, self.region)
        message_ids = [message["MessageId"] for message in messages]
        try:
            result = subscription.handler(event, lambda_context(subscription.name))
            failed = failed_message_ids(result, message_ids)
        except Exception:
            log.exception(
                "%s raised: the whole batch of %d failed", subscription.name, len(messages)
            )
            failed = set(message_ids)

        succeeded = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(succeeded), 10):
            chunk = succeeded[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=subscription.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
                ],
            )
        retried = [m for m in messages if m["MessageId"] in failed]
        if retried:
            self.sqs.change_message_visibility_batch(
                QueueUrl=subscription.queue_url,
                Entries=[
                    {
                        "Id": str(i),
                        "ReceiptHandle": m["ReceiptHandle"],
                        "VisibilityTimeout": self.backoff_seconds(
                            int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                        ),
                    }
                    for i, m in enumerate(retried)
                ],
            )
        log.info("%s: %d record(s), %d failed", subscription.name, len(messages), len(retried))
        return BatchOutcome(received=len(messages), deleted=len(succeeded), failed=len(retried))

    def drain(self, names: list[str] | None = None, rounds: int = 10) -> int:
        """Polls the queues (all, or those whose handler is named in `names`, in that order)
        until none receives anything, or `rounds` passes: work a handler queues for another
        is delivered too.  Returns the number of records delivered."""
        subscriptions = (
            [s for name in names for s in self.queues if s.name == name] if names else self.queues
        )
        delivered = 0
        for _ in range(rounds):
            before = delivered
            for subscription in subscriptions:
                while received := self.poll_queue(subscription).received:
                    delivered += received
            if delivered == before:
                break
        return delivered

    def fire(self, name: str, at: float | None = None) -> Any:
        """Runs the schedule handler `name` once now, its event dated `at` (default: now), as
        CloudWatch would at that time; returns what it returns, raises what it raises.
        `name` may be written with hyphens and without `_job` (`notification-digest`)."""
        wanted = name.replace("-", "_")
        for subscription in self.schedules:
            if subscription.name in (name, wanted, f"{wanted}_job"):
                event = scheduled_event(name, self.clock() if at is None else at, self.region)
                return subscription.handler(event, lambda_context(name))
        known = ", ".join(sorted(s.name for s in self.schedules)) or "none"
        raise LookupError(f"no schedule named {name!r}; the app's schedules: {known}")

    def fire_due_schedules(self) -> list[str]:
        """Run every schedule handler whose time has come; returns the names that fired."""
        now = self.clock()
        fired: list[str] = []
        for subscription in self.schedules:
            if now < subscription.next_fire:
                continue
            event = scheduled_event(subscription.name, subscription.next_fire, self.region)
            # Skip missed ticks rather than replaying a backlog, as a paused laptop would want.
            subscription.next_fire = subscription.schedule.next_after(
                max(now, subscription.next_fire)
            )
            try:
                subscription.handler(event, lambda_context(subscription.name))
            except Exception:
                log.exception("schedule %s raised", subscription.name)
            fired.append(subscription.name)
        return fired

    def stop(self) -> None:
        self._stop.set()

    def _poll_forever(self, subscription: QueueSubscription) -> None:
        while not self._stop.is_set():
            try:
                self.poll_queue(subscription)
            except EndpointConnectionError as e:
                # Also seen at shutdown, when the emulator got the same Ctrl-C first.
                if not self._stop.is_set():
                    log.warning("polling %s failed: %s", subscription.queue_name, e)
                self._stop.wait(1)
            except Exception:
                log.exception("polling %s failed; retrying", subscription.queue_name)
                self._stop.wait(1)

    def run(self) -> None:
        """Poll every queue (a thread each) and fire schedules until `stop()` is called."""
        threads = [
            threading.Thread(
                target=self._poll_forever, args=(s,), name=f"pump-{s.name}", daemon=True
            )
            for s in self.queues
        ]
        for thread in threads:
            thread.start()
        log.info(
            "event pump: queues %s, schedules %s",
            [s.queue_name for s in self.queues] or "none",
            [f"{s.name} {s.schedule.expression}" for s in self.schedules] or "none",
        )
        while not self._stop.is_set():
            self.fire_due_schedules()
            self._stop.wait(0.5)
        for thread in threads:
            thread.join(timeout=self.wait_seconds + 5)
