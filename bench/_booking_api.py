"""The local API (`devstack.local_api`, real HTTP) with what bench/booking_slots.py measures
added to each answer: every AWS call (botocore) and every call to a calendar provider
(`requests` to GOOGLE_API_BASE, GOOGLE_OAUTH_BASE, MS_GRAPH_BASE, MS_LOGIN_BASE) the
request made, and the time spent in each, as response headers:

    X-Bench-Aws: <calls> <ms> <operation:ms,operation:ms,...>
    X-Bench-Provider: <calls> <ms>
    X-Bench-Handler-Ms: <ms>   (the gateway's handling, the HTTP server's own time excluded)

With BENCH_PROFILE=<path>, each request is profiled (cProfile) and the statistics of the
requests whose path contains BENCH_PROFILE_MATCH (default `/slots`) are written to <path>
when the process ends (SIGTERM).

    python bench/_booking_api.py --port 8123
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

_lock = threading.Lock()
_aws: list[tuple[str, float]] = []
_provider: list[float] = []


def _provider_bases() -> tuple[str, ...]:
    names = ("GOOGLE_API_BASE", "GOOGLE_OAUTH_BASE", "MS_GRAPH_BASE", "MS_LOGIN_BASE")
    return tuple(os.environ[name].rstrip("/") for name in names if os.environ.get(name))


def _instrument() -> None:
    import botocore.endpoint
    import requests

    make_request = botocore.endpoint.Endpoint.make_request

    def counted_aws(self: Any, operation_model: Any, request_dict: Any) -> Any:
        started = time.perf_counter()
        try:
            return make_request(self, operation_model, request_dict)
        finally:
            with _lock:
                _aws.append((operation_model.name, time.perf_counter() - started))

    botocore.endpoint.Endpoint.make_request = counted_aws  # type: ignore[method-assign]
    bases = _provider_bases()
    send = requests.Session.send

    def counted_send(self: Any, request: Any, **kwargs: Any) -> Any:
        if not str(request.url).startswith(bases):
            return send(self, request, **kwargs)
        started = time.perf_counter()
        try:
            return send(self, request, **kwargs)
        finally:
            with _lock:
                _provider.append(time.perf_counter() - started)

    requests.Session.send = counted_send  # type: ignore[method-assign]


def _measure_answers() -> None:
    import cProfile
    import pstats

    from devstack import local_api

    profile_path = os.environ.get("BENCH_PROFILE")
    match = os.environ.get("BENCH_PROFILE_MATCH", "/slots")
    profiles: list[cProfile.Profile] = []
    handle = local_api.ProductGateway.handle_request

    def measured(
        self: Any, method: str, path: str, headers: dict[str, Any], body: bytes | None
    ) -> dict[str, Any]:
        with _lock:
            _aws.clear()
            _provider.clear()
        profiler = cProfile.Profile() if profile_path and match in path else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        try:
            answer = handle(self, method, path, headers, body)
        finally:
            if profiler is not None:
                profiler.disable()
                profiles.append(profiler)
        elapsed = time.perf_counter() - started
        with _lock:
            aws = list(_aws)
            provider = list(_provider)
        answer.setdefault("headers", {}).update(
            {
                "X-Bench-Aws": f"{len(aws)} {sum(s for _, s in aws) * 1000:.2f} "
                + ",".join(f"{name}:{seconds * 1000:.2f}" for name, seconds in aws),
                "X-Bench-Provider": f"{len(provider)} {sum(provider) * 1000:.2f}",
                "X-Bench-Handler-Ms": f"{elapsed * 1000:.2f}",
            }
        )
        return answer

    local_api.ProductGateway.handle_request = measured  # type: ignore[method-assign]

    if profile_path:

        def write_profile(signum: int, frame: Any) -> None:
            if profiles:
                stats = pstats.Stats(profiles[0])
                for more in profiles[1:]:
                    stats.add(more)
                stats.dump_stats(profile_path)
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, write_profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    _instrument()
    _measure_answers()
    from devstack import local_api

    local_api.main(["--host", "127.0.0.1", "--port", str(args.port), "--stage", "dev"])


if __name__ == "__main__":
    main()
