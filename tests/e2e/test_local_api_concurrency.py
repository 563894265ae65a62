"""The local API under a burst of clients: a web client, the pump and a teammate's scripts
open connections at once, and none may be refused, reset or left waiting for a retry (a
listen backlog of a few once did all three, depending on the kernel)."""

import http.client
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

CLIENTS = 64
TIMEOUT_SECONDS = 20
# A connection the backlog had no room for waits for the client's SYN retry, 1 s on Linux.
SYN_RETRY_SECONDS = 0.9


def _health_answer(host: str, port: int, start: threading.Barrier) -> tuple[object, float]:
    """(status or error, seconds to connect) of one client's GET /v1/health."""
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_SECONDS)
    try:
        start.wait(timeout=TIMEOUT_SECONDS)
        # All connect at once: the burst is what overflows a small backlog.
        began = time.monotonic()
        connection.connect()
        connect_seconds = time.monotonic() - began
        connection.request("GET", "/v1/health")
        return connection.getresponse().status, connect_seconds
    except OSError as error:
        return f"{type(error).__name__}: {error}", 0.0
    finally:
        connection.close()


def test_sixty_four_clients_at_once_all_connect_promptly_and_get_a_health_answer(stack):
    url = urlsplit(stack.api_url)
    start = threading.Barrier(CLIENTS)
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        answers = list(
            pool.map(lambda _: _health_answer(url.hostname, url.port, start), range(CLIENTS))
        )

    failures = [status for status, _ in answers if status != 200]
    assert failures == [], f"{len(failures)} of {CLIENTS} clients failed: {failures[:5]}"
    retried = sorted(seconds for _, seconds in answers if seconds >= SYN_RETRY_SECONDS)
    assert retried == [], f"{len(retried)} of {CLIENTS} connections had to retry: {retried[:5]}"
