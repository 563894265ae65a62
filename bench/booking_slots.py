"""Booking slots page views: latency, provider calls and AWS calls per page view.

The scene (issue 15): a workspace with a round-robin event type of two hosts, each host with
two connected calendars (one Google, one Microsoft 365: the real adapters against the local
stand-ins, connected through the API's OAuth flow with PKCE), a few hundred busy events over
the next 30 days and a few dozen existing bookings (booked through the booking service).
Then `GET /v1/booking/<ws>/<et>/slots` over real HTTP against the local API
(`devstack.local_api` in a process of its own, bench/_booking_api.py, which reports each
request's AWS and provider calls and their time) on a private moto emulator:

- cold: the first request of a fresh API process (busy cache dropped too), a few processes;
- warm process, busy cache cold (`fresh`: the cache is dropped before each request, as after
  a push notification or five minutes): p50/p95, and the same less the providers' time;
- warm process, busy cache warm: p50/p95;
- for windows of 7, 30 and 42 days: provider calls (counted by the stand-ins' `/_fake/calls`)
  and AWS calls per page view, which must not grow with the window.

Baselines measured in the same run and process: `GET /v1/health` (the local HTTP server and
the app's routing) and `GET /v1/booking/<ws>/<et>` (the public event type: the same workspace
and event type reads, no slots).

Targets: a 30-day page view < 200 ms excluding provider latency (p95 of the warm cache, and
p95 of the fresh cache less the time spent in provider calls); provider calls per page view
<= the number of calendars (4); provider and AWS calls the same for 7, 30 and 42 days.

Exits non-zero on a miss only with --strict (`make bench` runs every bench).

    .venv/bin/python bench/booking_slots.py [--rounds 30] [--cold 3] [--profile out.prof]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import _emulator  # first: it sets the environment the settings read
import requests

from fakes.google import FakeGoogle
from fakes.microsoft import FakeMicrosoft

PROJECT_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-123"
VISITOR_ZONE = "Europe/Paris"
HOSTS = (
    ("Ann Host", "ann@bench.test", "Europe/Paris"),
    ("Bob Host", "bob@bench.test", "Europe/London"),
)
BUSY_PER_CALENDAR = 150  # over the next 30 days: 600 in all
BOOKINGS = 36
WINDOWS = (7, 30, 42)
TARGET_MS = 200.0
STARTUP_TIMEOUT_SECONDS = 90


@dataclass
class Scene:
    workspace_id: str
    workspace_slug: str
    event_type_slug: str
    connection_ids: list[str]
    google: FakeGoogle
    microsoft: FakeMicrosoft

    @property
    def calendars(self) -> int:
        return len(self.connection_ids)

    def slots_path(self, days: int, start: date) -> str:
        end = start + timedelta(days=days - 1)
        return (
            f"/v1/booking/{self.workspace_slug}/{self.event_type_slug}/slots"
            f"?from={start.isoformat()}&to={end.isoformat()}&time_zone={VISITOR_ZONE}"
        )

    def provider_calls(self) -> list[list[str]]:
        """Calls each stand-in received so far (their `/_fake/calls`): `method path`."""
        return [
            [
                f"{call['method']} {call['path']}"
                for call in requests.get(f"{fake.url}/_fake/calls", timeout=10).json()["calls"]
            ]
            for fake in (self.google, self.microsoft)
        ]

    def drop_busy_cache(self) -> None:
        """What a push notification does: the connections' cached busy times are not read
        again (their generation moves on)."""
        from chalicelib.store.calendar_repo import DynamoCalendarStore

        store = DynamoCalendarStore()
        for connection_id in self.connection_ids:
            store.drop_busy_cache(self.workspace_id, connection_id)


@dataclass
class Sample:
    total_ms: float
    handler_ms: float
    aws_calls: int
    aws_ms: float
    aws_ops: list[tuple[str, float]]  # (operation, ms) in order
    provider_calls: int  # as the API process saw them
    provider_ms: float
    slots: int = 0
    stand_in_calls: int = 0  # as the stand-ins counted them
    stand_in_paths: list[str] = field(default_factory=list)

    @property
    def app_ms(self) -> float:
        """The app's own time: the handling less AWS and provider calls."""
        return self.handler_ms - self.aws_ms - self.provider_ms


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)

    def pct(self, attr: str, share: float) -> float:
        values = sorted(own(s) if attr == "own_ms" else getattr(s, attr) for s in self.samples)
        return values[min(len(values) - 1, round(share * (len(values) - 1)))]

    def spread(self, attr: str) -> str:
        values = sorted({getattr(s, attr) for s in self.samples})
        return str(values[0]) if len(values) == 1 else f"{values[0]}-{values[-1]}"


def own(sample: Sample) -> float:
    """The page view less the time spent waiting for the providers."""
    return sample.total_ms - sample.provider_ms


# -- the scene -------------------------------------------------------------------------------


class Api:
    def __init__(self, client: Any) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200, 201, 204),
    ) -> Any:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        response = getattr(self.client.http, method.lower())(
            path, headers=sent, body=None if body is None else json.dumps(body)
        )
        if response.status_code not in expect:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.body[:500]!r}")
        return response


def _queued_link(pattern: str, to: str) -> str:
    """The token of a link in the mail queued for `to` (the mail-out queue, as a worker
    would take it)."""
    from chalicelib import bootstrap
    from chalicelib.settings import get_settings

    sqs = bootstrap.sqs_client()
    url = sqs.get_queue_url(QueueName=get_settings().queues.mail_out)["QueueUrl"]
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            mail = json.loads(message["Body"])
            found = re.search(pattern, mail.get("text") or "")
            if to in mail.get("to", []) and found:
                return found.group(1)
    raise RuntimeError(f"no mail for {to} matching {pattern}")


def _connect(api: Api, token: str, provider: str, fake: Any, email: str) -> None:
    started = api.call("POST", f"/v1/calendar-connections/{provider}/start", token=token)
    code, state = fake.consent(json.loads(started.body)["authorization_url"], email)
    done = api.call(
        "GET",
        f"/v1/calendar-connections/{provider}/callback?code={code}&state={state}",
        headers={"Cookie": f"__Host-helptal_session={token}"},
        expect=(302,),
    )
    if "connected=" not in done.headers.get("Location", ""):
        raise RuntimeError(f"{provider} not connected: {done.headers.get('Location')}")


def _busy_events(fake: Any, email: str, rng: random.Random, today: date) -> None:
    """BUSY_PER_CALENDAR events of 30 to 120 minutes on weekdays' working hours (and a few
    at night) over the next 30 days."""
    for _ in range(BUSY_PER_CALENDAR):
        day = today + timedelta(days=rng.randrange(30))
        hour = rng.choice([*range(6, 19), 22])
        start = datetime(
            day.year, day.month, day.day, hour, rng.choice((0, 15, 30, 45)), tzinfo=UTC
        )
        fake.add_busy(email, start, start + timedelta(minutes=rng.choice((30, 45, 60, 90, 120))))


def start_stand_ins() -> tuple[FakeGoogle, FakeMicrosoft]:
    """The Google and Microsoft stand-ins, and the settings' variables that point this
    process and the API's at them (before the settings are first read)."""
    google, microsoft = FakeGoogle().start(), FakeMicrosoft().start()
    for fake in (google, microsoft):
        fake.deliver_notifications = False  # push channels would reach no API here
    os.environ.update(
        {
            "GOOGLE_API_BASE": google.url,
            "GOOGLE_OAUTH_BASE": google.url,
            "GOOGLE_ACCOUNTS_BASE": google.url,
            "GOOGLE_CLIENT_ID": google.client_id,
            "GOOGLE_CLIENT_SECRET": google.client_secret,
            "MS_GRAPH_BASE": f"{microsoft.url}/v1.0",
            "MS_LOGIN_BASE": microsoft.url,
            "MS_TENANT": "common",
            "MS_CLIENT_ID": microsoft.client_id,
            "MS_CLIENT_SECRET": microsoft.client_secret,
        }
    )
    return google, microsoft


def build_scene(google: FakeGoogle, microsoft: FakeMicrosoft) -> Scene:
    from chalice.test import Client

    from app import app
    from chalicelib import bootstrap
    from chalicelib.booking import availability, bookings
    from chalicelib.booking.ports import Interval

    rng = random.Random(15)
    today = datetime.now(UTC).date()
    with Client(app, stage_name="bench") as client:
        api = Api(client)
        (owner_name, owner_email, _), (host_name, host_email, _) = HOSTS
        signup = json.loads(
            api.call(
                "POST",
                "/v1/signup",
                {
                    "workspace_name": "Booking bench",
                    "name": owner_name,
                    "email": owner_email,
                    "password": PASSWORD,
                },
            ).body
        )
        workspace = signup["workspace"]
        tokens = [signup["token"]]
        user_ids = [signup["user"]["id"]]
        confirm = _queued_link(r"/account/confirm/(htl_[\w-]+)", owner_email)
        client.http.post(
            f"/account/confirm/{confirm}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body="",
        )
        api.call(
            "POST",
            "/v1/members/invitations",
            {"email": host_email, "role": "agent"},
            token=tokens[0],
        )
        invitation = _queued_link(r"/join/(hti_[\w-]+)", host_email)
        accepted = json.loads(
            api.call(
                "POST",
                f"/v1/invitations/{invitation}/accept",
                {"name": host_name, "password": PASSWORD},
            ).body
        )
        tokens.append(accepted["token"])
        user_ids.append(accepted["user"]["id"])
        for token, (_, email, zone) in zip(tokens, HOSTS, strict=True):
            hours = [{"start": "09:00", "end": "12:30"}, {"start": "13:30", "end": "18:00"}]
            api.call(
                "PUT",
                "/v1/booking/schedules/me",
                {
                    "time_zone": zone,
                    "weekly": {d: hours for d in ("mon", "tue", "wed", "thu", "fri")},
                },
                token=token,
            )
            for provider, fake in (("google", google), ("microsoft", microsoft)):
                _connect(api, token, provider, fake, email)
                _busy_events(fake, email, rng, today)
        event_type = json.loads(
            api.call(
                "POST",
                "/v1/booking/event-types",
                {
                    "slug": "product-demo",
                    "title": "Product demo",
                    "durations": [30],
                    "location": {"kind": "zoom", "value": ""},
                    "host_mode": "round_robin",
                    "host_ids": user_ids,
                    "time_zone": VISITOR_ZONE,
                    "minimum_notice": 60,
                    "buffer_after": 10,
                },
                token=tokens[0],
            ).body
        )
        connections = [
            c["id"]
            for token in tokens
            for c in json.loads(api.call("GET", "/v1/calendar-connections", token=token).body)[
                "connections"
            ]
        ]
    deps = bootstrap.booking_deps()
    found = availability.bookable(deps, workspace["slug"], event_type["slug"])
    now = deps.clock.now()
    offered = availability.offered_slots(deps, found, Interval(now, now + timedelta(days=30)), None)
    picked = offered[:: max(1, len(offered) // BOOKINGS)][:BOOKINGS]
    for n, slot in enumerate(picked):
        bookings.book(
            deps,
            workspace["slug"],
            event_type["slug"],
            bookings.BookingRequest(
                start=slot.start,
                time_zone=VISITOR_ZONE,
                name=f"Invitee {n}",
                email=f"invitee{n}@customer.test",
                answers={},
            ),
            visitor_ip=f"198.51.100.{n}",
            human_token=None,
        )
    return Scene(
        workspace_id=workspace["id"],
        workspace_slug=workspace["slug"],
        event_type_slug=event_type["slug"],
        connection_ids=connections,
        google=google,
        microsoft=microsoft,
    )


# -- the API process -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ApiProcess:
    process: subprocess.Popen[bytes]
    url: str
    ready_ms: float  # from the process's start to its port accepting connections

    def get(self, path: str, scene: Scene | None = None) -> Sample:
        before = scene.provider_calls() if scene is not None else []
        started = time.perf_counter()
        response = requests.get(f"{self.url}{path}", timeout=60)
        total = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:500]}")
        aws = response.headers["X-Bench-Aws"].split(" ")
        provider = response.headers["X-Bench-Provider"].split(" ")
        body = response.json()
        ops = [op.rsplit(":", 1) for op in (aws[2] if len(aws) > 2 else "").split(",") if op]
        after = scene.provider_calls() if scene is not None else []
        seen = [call for old, new in zip(before, after, strict=True) for call in new[len(old) :]]
        return Sample(
            total_ms=total,
            handler_ms=float(response.headers["X-Bench-Handler-Ms"]),
            aws_calls=int(aws[0]),
            aws_ms=float(aws[1]),
            aws_ops=[(name, float(ms)) for name, ms in ops],
            provider_calls=int(provider[0]),
            provider_ms=float(provider[1]),
            slots=len(body.get("slots", [])) if isinstance(body, dict) else 0,
            stand_in_calls=len(seen),
            stand_in_paths=seen,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_api(profile: str | None = None) -> ApiProcess:
    port = _free_port()
    env = dict(os.environ)
    if profile:
        env["BENCH_PROFILE"] = profile
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_booking_api.py")), "--port", str(port)],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API process exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                ready = (time.perf_counter() - started) * 1000
                return ApiProcess(process, f"http://127.0.0.1:{port}", ready)
        time.sleep(0.02)
    process.kill()
    raise RuntimeError("the API process did not listen in time")


# -- measuring -------------------------------------------------------------------------------


def fresh_series(api: ApiProcess, scene: Scene, path: str, rounds: int) -> Series:
    series = Series()
    for _ in range(rounds):
        scene.drop_busy_cache()
        series.samples.append(api.get(path, scene))
    return series


def warm_series(api: ApiProcess, scene: Scene, path: str, rounds: int) -> Series:
    api.get(path)  # fills the busy cache
    series = Series()
    for _ in range(rounds):
        series.samples.append(api.get(path, scene))
    return series


def plain_series(api: ApiProcess, path: str, rounds: int) -> Series:
    api.get(path)
    return Series([api.get(path) for _ in range(rounds)])


HEADER = (
    f"{'view':<32}{'p50 ms':>8}{'p95 ms':>8}{'less providers':>17}{'app own':>14}"
    f"{'AWS calls (ms)':>18}{'provider calls (ms)':>21}"
)


def line(label: str, series: Series) -> str:
    """One row: the page view (p50, p95), less provider time (p50/p95), the app's own time
    (p50/p95), AWS and provider calls per view with their time (p50)."""

    def pair(attr: str) -> str:
        return f"{series.pct(attr, 0.5):.0f}/{series.pct(attr, 0.95):.0f}"

    aws = f"{series.spread('aws_calls')} ({series.pct('aws_ms', 0.5):.0f})"
    provider = f"{series.spread('stand_in_calls')} ({series.pct('provider_ms', 0.5):.0f})"
    return (
        f"{label:<32}{series.pct('total_ms', 0.5):>8.1f}{series.pct('total_ms', 0.95):>8.1f}"
        f"{pair('own_ms'):>17}{pair('app_ms'):>14}{aws:>18}{provider:>21}"
    )


def aws_breakdown(series: Series) -> str:
    """The median time of each AWS call of the view, in the order made."""
    columns = list(zip(*(s.aws_ops for s in series.samples), strict=True))
    return "  ".join(
        f"{column[0][0]} {statistics.median(ms for _, ms in column):.1f}" for column in columns
    )


def where(warm: Series, fresh: Series) -> str:
    """Where a 30-day page view's time goes (medians)."""

    def median_of(series: Series, value: Any) -> float:
        return statistics.median(value(s) for s in series.samples)

    def ms_of(operation: str) -> Any:
        return lambda s: sum(ms for name, ms in s.aws_ops if name == operation)

    queries = sum(1 for name, _ in warm.samples[0].aws_ops if name == "Query")
    return (
        f"where    30 days, cache warm (p50): AWS {median_of(warm, lambda s: s.aws_ms):.0f} ms "
        f"in {warm.samples[0].aws_calls} calls, of which {median_of(warm, ms_of('Query')):.0f} "
        f"ms in {queries} Queries (the emulator reads every item of the table for a Query, "
        f"DynamoDB only the partition's range); the app's own work "
        f"{median_of(warm, lambda s: s.app_ms):.0f} ms; HTTP "
        f"{median_of(warm, lambda s: s.total_ms - s.handler_ms):.0f} ms.  Cache cold adds the "
        f"providers {median_of(fresh, lambda s: s.provider_ms):.0f} ms and the cache's "
        f"writes {median_of(fresh, ms_of('PutItem')):.0f} ms"
    )


def verdict(text: str, met: bool) -> bool:
    print(f"verdict  {text}: {'PASS' if met else 'FAIL'}")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="requests per series")
    parser.add_argument("--cold", type=int, default=3, help="fresh API processes")
    parser.add_argument(
        "--profile",
        help="write the warm process's cProfile of the slots requests here (and each cold "
        "process's first request to <path>.cold<n>)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the stand-ins' access lines
    google, microsoft = start_stand_ins()
    server = _emulator.start()
    scene: Scene | None = None
    try:
        print("building the scene (signup, 2 hosts, 4 calendar connections, busy events, ")
        started = time.perf_counter()
        scene = build_scene(google, microsoft)
        print(
            f"  bookings) in {time.perf_counter() - started:.1f} s: "
            f"{scene.calendars} calendars, {4 * BUSY_PER_CALENDAR} busy events, "
            f"{BOOKINGS} bookings"
        )
        today = datetime.now(UTC).date()
        path30 = scene.slots_path(30, today)
        print(f"GET {path30}")

        cold = []
        for n in range(args.cold):
            scene.drop_busy_cache()
            process = start_api(f"{args.profile}.cold{n}" if args.profile else None)
            try:
                cold.append((process.ready_ms, process.get(path30, scene)))
            finally:
                process.stop()
        for ready_ms, sample in cold:
            calls = Counter(path.rsplit("/", 1)[-1] for path in sample.stand_in_paths)
            print(
                f"cold     fresh process (ready {ready_ms:.0f} ms), busy cache dropped: first "
                f"slots page {sample.total_ms:.0f} ms = app {sample.app_ms:.0f} + AWS "
                f"{sample.aws_ms:.0f} ({sample.aws_calls} calls) + providers "
                f"{sample.provider_ms:.0f} ({sample.stand_in_calls} calls: "
                + ", ".join(f"{n} {name}" for name, n in sorted(calls.items()))
                + f") + HTTP {sample.total_ms - sample.handler_ms:.0f}"
            )
        print(
            "  its AWS calls: " + " ".join(f"{name} {ms:.0f}" for name, ms in cold[-1][1].aws_ops)
            if cold
            else ""
        )

        api = start_api(args.profile)
        try:
            scene.drop_busy_cache()
            api.get(path30)  # a first page view: access tokens kept, as in a warm container
            health = plain_series(api, "/v1/health", args.rounds)
            page = plain_series(
                api, f"/v1/booking/{scene.workspace_slug}/{scene.event_type_slug}", args.rounds
            )
            print(
                f"\nwarm process, {args.rounds} page views a row (less providers, app own: p50/p95)"
            )
            print(HEADER)
            print(line("baseline GET /v1/health", health))
            print(line("baseline GET event type page", page))
            results: dict[int, tuple[Series, Series]] = {}
            for days in WINDOWS:
                path = scene.slots_path(days, today)
                fresh = fresh_series(api, scene, path, args.rounds)
                warm = warm_series(api, scene, path, args.rounds)
                results[days] = (fresh, warm)
                if os.environ.get("BENCH_VERBOSE"):
                    for sample in fresh.samples + warm.samples:
                        print(f"  {sample}")
                print(line(f"slots {days} days, {fresh.samples[0].slots} slots, fresh", fresh))
                print(line(f"slots {days} days, cache warm", warm))
        finally:
            api.stop()
        for days in WINDOWS:
            fresh, warm = results[days]
            print(f"AWS calls, {days} days, fresh (median ms): {aws_breakdown(fresh)}")
            print(f"AWS calls, {days} days, warm  (median ms): {aws_breakdown(warm)}")
        fresh30, warm30 = results[30]
        print(where(warm30, fresh30))
        base = page.pct("total_ms", 0.5)
        print(
            f"ratios   slots 30 days / event type page (p50): warm cache "
            f"{warm30.pct('total_ms', 0.5) / base:.2f}, fresh cache less providers "
            f"{fresh30.pct('own_ms', 0.5) / base:.2f}; event type page / health "
            f"{base / health.pct('total_ms', 0.5):.2f}"
        )
        met = [
            verdict(
                f"30 days, warm cache, p95 {warm30.pct('total_ms', 0.95):.0f} ms < {TARGET_MS:.0f}",
                warm30.pct("total_ms", 0.95) < TARGET_MS,
            ),
            verdict(
                f"30 days, cold cache less provider time, p95 {fresh30.pct('own_ms', 0.95):.0f}"
                f" ms < {TARGET_MS:.0f}",
                fresh30.pct("own_ms", 0.95) < TARGET_MS,
            ),
        ]
        most = max(s.stand_in_calls for fresh, _ in results.values() for s in fresh.samples)
        met.append(
            verdict(
                f"provider calls per page view at most {most} <= {scene.calendars} calendars",
                most <= scene.calendars,
            )
        )
        provider_counts = {
            days: (fresh.spread("stand_in_calls"), warm.spread("stand_in_calls"))
            for days, (fresh, warm) in results.items()
        }
        aws_counts = {
            days: (fresh.spread("aws_calls"), warm.spread("aws_calls"))
            for days, (fresh, warm) in results.items()
        }
        met.append(
            verdict(
                "provider calls the same for "
                + ", ".join(f"{d} days {c[0]}/{c[1]}" for d, c in provider_counts.items())
                + " (fresh/warm)",
                len(set(provider_counts.values())) == 1,
            )
        )
        met.append(
            verdict(
                "AWS calls the same for "
                + ", ".join(f"{d} days {c[0]}/{c[1]}" for d, c in aws_counts.items())
                + " (fresh/warm)",
                len(set(aws_counts.values())) == 1,
            )
        )
        print("PASS" if all(met) else "FAIL")
        if args.profile:
            print(f"profiles of the slots requests: {args.profile}, {args.profile}.cold<n>")
        return 1 if args.strict and not all(met) else 0
    finally:
        google.stop()
        microsoft.stop()
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
