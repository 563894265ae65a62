"""moto in server mode, run as a child process: the embedded AWS emulator for dev and tests."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO

import requests


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def ensure_port_free(port: int, what: str, host: str = "127.0.0.1") -> None:
    """Raise a readable error when something already listens on `port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As servers do: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as e:
            raise RuntimeError(f"{what}: port {port} on {host} is already in use") from e


def wait_for_http(
    url: str,
    timeout: float,
    *,
    expect_status: int | None = None,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll `url` until it answers (with `expect_status` if given); raise after `timeout` s.

    Fails early when `process` (the server being waited for) has exited.
    """
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: server exited with code {process.returncode}")
        try:
            status = requests.get(url, timeout=2).status_code
        except requests.RequestException as e:
            last_error = str(e)
            time.sleep(0.1)
            continue
        if expect_status is None or status == expect_status:
            return
        last_error = f"status {status}"
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout:.0f} s: {last_error}")


class MotoServer:
    """`moto_server` on host:port as a child process; a context manager.

    Every service moto emulates is served on the one port, so the endpoint is used as
    `AWS_ENDPOINT_URL` for all clients.
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1", log_path: Path | None = None):
        self.host = host
        self.port = port or free_port(host)
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs (to measure it), else None."""
        return self._process.pid if self._process is not None else None

    def start(self, timeout: float = 30.0) -> str:
        """Start the server and wait until it answers; returns the endpoint URL."""
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        ensure_port_free(self.port, "moto server (set AWS_PORT, or AWS_ENDPOINT_URL)", self.host)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "devstack.moto_serial", "-H", self.host, "-p", str(self.port)],
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_http(
                f"{self.endpoint}/moto-api/", timeout, expect_status=200, process=self._process
            )
        except Exception:
            self.stop()
            raise
        return self.endpoint

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the server (kill it if it does not exit within `timeout` s)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
