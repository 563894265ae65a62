"""Every password check is throttled per e-mail, atomically: a burst cannot get more checks
than the window allows."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib import bootstrap
from chalicelib.accounts import sessions
from chalicelib.errors import TooManyRequests, Unauthenticated
from tests.integration.conftest import PASSWORD, accept_invitation, invite


class CountingHasher:
    """The real hasher, counting the passwords it is asked to check."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.checked = 0

    def hash(self, password: str) -> str:
        return str(self._real.hash(password))

    def verify(self, password_hash: str, password: str) -> bool:
        self.checked += 1
        return bool(self._real.verify(password_hash, password))

    def verify_decoy(self, password: str) -> None:
        self.checked += 1
        self._real.verify_decoy(password)


def test_a_burst_of_logins_gets_at_most_the_allowed_checks_then_429(api, clock):
    api.sign_up(email="ann@acme.test")
    hasher = CountingHasher(bootstrap.account_deps().hasher)
    deps = dataclasses.replace(bootstrap.account_deps(), hasher=hasher)
    allowed = deps.policy.login_max_failures
    passwords = [f"wrong password {i}" for i in range(29)] + [PASSWORD]

    def attempt(password: str) -> Any:
        try:
            return sessions.log_in(deps, "ann@acme.test", password)
        except (TooManyRequests, Unauthenticated) as e:
            return e

    with ThreadPoolExecutor(max_workers=30) as pool:
        outcomes = list(pool.map(attempt, passwords))

    throttled = [o for o in outcomes if isinstance(o, TooManyRequests)]
    # The right password, once checked, may end the window (a success resets the count), so
    # wrong ones reserved after it start a new one: at most one reset, never more checks.
    assert hasher.checked <= 2 * allowed
    assert len(throttled) >= len(passwords) - 2 * allowed
    assert all(0 < int(o.headers["Retry-After"]) <= 15 * 60 for o in throttled)
    clock.advance(minutes=16)
    status, _body, _ = api.request(
        "POST", "/v1/auth/login", {"email": "ann@acme.test", "password": PASSWORD}
    )
    assert status == 200


def test_a_burst_of_wrong_passwords_gets_at_most_the_allowed_checks(api):
    api.sign_up(email="ann@acme.test")
    hasher = CountingHasher(bootstrap.account_deps().hasher)
    deps = dataclasses.replace(bootstrap.account_deps(), hasher=hasher)
    allowed = deps.policy.login_max_failures

    def attempt(password: str) -> Any:
        try:
            return sessions.log_in(deps, "ann@acme.test", password)
        except (TooManyRequests, Unauthenticated) as e:
            return e

    with ThreadPoolExecutor(max_workers=30) as pool:
        outcomes = list(pool.map(attempt, [f"wrong password {i}" for i in range(30)]))

    assert hasher.checked <= allowed
    assert sum(isinstance(o, TooManyRequests) for o in outcomes) >= 30 - allowed


def test_a_burst_through_the_api_is_throttled_too(api):
    api.sign_up(email="ann@acme.test")
    statuses = []
    for i in range(8):
        status, _body, headers = api.request(
            "POST", "/v1/auth/login", {"email": "ann@acme.test", "password": f"bad {i}"}
        )
        statuses.append(status)
    assert statuses == [401] * 5 + [429] * 3
    assert "Retry-After" in headers


def test_joining_with_an_existing_account_is_throttled_like_a_login(api):
    ann = api.sign_up(email="ann@acme.test")
    api.sign_up(workspace="Other Co", email="bob@other.test")
    invitation = invite(api, ann["token"], "bob@other.test")
    for i in range(5):
        status, body, _ = accept_invitation(api, invitation, password=f"guess number {i}")
        assert (status, body["error"]["code"]) == (401, "invalid_credentials")
    status, body, headers = accept_invitation(api, invitation, password=PASSWORD)
    assert (status, body["error"]["code"]) == (429, "login_throttled")
    assert int(headers["Retry-After"]) > 0
    # The same window guards the login page: the guesses counted there too.
    status, _body, _ = api.request(
        "POST", "/v1/auth/login", {"email": "bob@other.test", "password": PASSWORD}
    )
    assert status == 429
