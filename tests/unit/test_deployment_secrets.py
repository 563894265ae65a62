"""Secrets come from the parameter store in deployed stages, per function, cached with a TTL;
a deployed stage lists what it lacks instead of running with an empty key."""

from __future__ import annotations

import pytest

from chalicelib import readiness
from chalicelib.secret_store import (
    FUNCTION_SECRETS,
    SECRETS,
    SECRETS_BY_FIELD,
    EnvironmentSecrets,
    ParameterStoreSecrets,
    SecretNotGranted,
    secrets_of,
)
from chalicelib.settings import reload_settings

PROD = {
    "HELPTAL_STAGE": "prod",
    "PUBLIC_BASE_URL": "https://api.example.com",
    "APP_BASE_URL": "https://app.example.com",
    "INBOUND_MAIL_DOMAIN": "in.example.com",
    "MAILGUN_DOMAIN": "mg.example.com",
}


class FakeParameterStore:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.fetches: list[list[str]] = []

    def fetch(self, names: list[str], max_age: int) -> dict[str, str]:
        self.fetches.append(names)
        return {name: self.values[name] for name in names if name in self.values}


class Ticking:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _store(values: dict[str, str], function: str = "mail_out_worker", ttl: int = 300):
    fake = FakeParameterStore(values)
    clock = Ticking()
    source = ParameterStoreSecrets("/helptal/prod/", function, ttl, fake.fetch, clock)
    return source, fake, clock


def test_one_batch_read_serves_every_secret_of_the_function_until_the_ttl_ends():
    key = SECRETS_BY_FIELD["mailgun_api_key"]
    reply = SECRETS_BY_FIELD["reply_address_secret"]
    source, store, clock = _store(
        {"/helptal/prod/mailgun-api-key": "key-1", "/helptal/prod/reply-address-secret": "r"}
    )

    assert source.get(key) == "key-1"
    assert source.get(reply) == "r"
    assert len(store.fetches) == 1
    assert sorted(store.fetches[0]) == [
        "/helptal/prod/mailgun-api-key",
        "/helptal/prod/reply-address-secret",
    ]

    store.values["/helptal/prod/mailgun-api-key"] = "key-2"  # rotated
    clock.now = 299
    assert source.get(key) == "key-1"
    clock.now = 300
    assert source.get(key) == "key-2"
    assert len(store.fetches) == 2


def test_an_absent_optional_secret_is_remembered_as_empty_not_fetched_on_every_use():
    source, store, _ = _store({}, function="ai_jobs_worker")
    openai = SECRETS_BY_FIELD["openai_api_key"]

    assert [source.get(openai) for _ in range(5)] == [""] * 5
    assert len(store.fetches) == 1


def test_a_function_cannot_read_a_secret_its_role_is_not_granted():
    source, store, _ = _store({"/helptal/prod/domain-verification-secret": "x"})

    with pytest.raises(SecretNotGranted):
        source.get(SECRETS_BY_FIELD["domain_verification_secret"])
    assert store.fetches == []


def test_missing_names_absent_and_blank_required_secrets():
    source, _, _ = _store({"/helptal/prod/mailgun-api-key": "   "})
    required = tuple(s for s in secrets_of("mail_out_worker") if s.required)

    assert source.missing(required) == [
        "/helptal/prod/mailgun-api-key",
        "/helptal/prod/reply-address-secret",
    ]


def test_every_function_reads_only_known_secrets_and_the_api_never_the_sending_key():
    known = {secret.field for secret in SECRETS}
    for function, fields in FUNCTION_SECRETS.items():
        assert fields <= known, function
    assert "mailgun_api_key" not in FUNCTION_SECRETS["api_handler"]
    assert FUNCTION_SECRETS["mail_out_worker"] == {"mailgun_api_key", "reply_address_secret"}


def test_dev_stage_reads_secrets_from_the_environment_and_never_refuses(monkeypatch):
    monkeypatch.setenv("HELPTAL_STAGE", "dev")
    monkeypatch.setenv("REPLY_ADDRESS_SECRET", "")
    monkeypatch.delenv("SECRETS_PATH", raising=False)
    try:
        settings = reload_settings()
        assert isinstance(settings.secrets, EnvironmentSecrets)
        assert settings.reply_address_secret == ""
        assert settings.missing() == []
    finally:
        monkeypatch.undo()
        reload_settings()


def test_a_deployed_stage_refuses_secrets_from_plain_environment_variables(monkeypatch):
    for name, value in PROD.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SECRETS_PATH", raising=False)
    try:
        assert reload_settings().missing() == ["SECRETS_PATH"]
    finally:
        monkeypatch.undo()
        reload_settings()


def test_a_deployed_stage_has_no_test_domain_defaults(monkeypatch):
    for name, value in PROD.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MAILGUN_DOMAIN")
    monkeypatch.setenv("INBOUND_MAIL_DOMAIN", " ")
    monkeypatch.setenv("SECRETS_PATH", "/helptal/prod")
    monkeypatch.setenv("HELPTAL_FUNCTION", "mail_out_worker")
    try:
        settings = reload_settings()
        store = FakeParameterStore(
            {"/helptal/prod/mailgun-api-key": "k", "/helptal/prod/reply-address-secret": "r"}
        )
        object.__setattr__(
            settings,
            "secrets",
            ParameterStoreSecrets("/helptal/prod", "mail_out_worker", 300, store.fetch),
        )
        assert settings.mailgun_domain == ""
        assert settings.missing() == ["INBOUND_MAIL_DOMAIN", "MAILGUN_DOMAIN"]
    finally:
        monkeypatch.undo()
        reload_settings()


def test_readiness_rechecks_a_failing_deployment_only_after_a_pause(monkeypatch):
    answers = [["/helptal/prod/reply-address-secret"], []]
    calls: list[int] = []

    class FakeSettings:
        def missing(self) -> list[str]:
            calls.append(1)
            return answers[min(len(calls) - 1, 1)]

    monkeypatch.setattr(readiness, "get_settings", FakeSettings)
    readiness.reset()
    try:
        assert readiness.problems(monotonic=100.0) == ["/helptal/prod/reply-address-secret"]
        assert readiness.problems(monotonic=110.0) == ["/helptal/prod/reply-address-secret"]
        assert len(calls) == 1
        assert readiness.problems(monotonic=100.0 + readiness.RECHECK_SECONDS) == []
        assert readiness.problems(monotonic=10_000.0) == []
        assert len(calls) == 2
        readiness.reset()
        calls.clear()
        with pytest.raises(readiness.NotConfigured) as refused:
            readiness.ensure_configured()
        assert refused.value.problems == ["/helptal/prod/reply-address-secret"]
    finally:
        readiness.reset()


def test_a_rotated_secret_rebuilds_the_services_that_hold_the_old_one(monkeypatch):
    from chalicelib import bootstrap

    source, store, clock = _store(
        {"/helptal/prod/mailgun-api-key": "key-1", "/helptal/prod/reply-address-secret": "r"}
    )

    class FakeSettings:
        secrets = source

    monkeypatch.setattr(bootstrap, "get_settings", FakeSettings)
    monkeypatch.setattr(bootstrap, "_built_with_secrets", [0])
    resets: list[int] = []
    monkeypatch.setattr(bootstrap, "reset", lambda: resets.append(1))

    bootstrap.follow_secret_rotation()  # first read: the services are built with these
    clock.now = 400
    bootstrap.follow_secret_rotation()  # read again, nothing changed
    assert resets == []
    assert len(store.fetches) == 2

    store.values["/helptal/prod/mailgun-api-key"] = "key-2"
    clock.now = 500
    bootstrap.follow_secret_rotation()  # within the TTL: not read again
    assert resets == []
    clock.now = 800
    bootstrap.follow_secret_rotation()
    assert resets == [1]
    assert source.get(SECRETS_BY_FIELD["mailgun_api_key"]) == "key-2"
