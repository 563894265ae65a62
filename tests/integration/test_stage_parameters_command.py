"""`python -m infra.parameters`: an operator creates a stage's secrets in Parameter Store."""

from __future__ import annotations

import uuid

from infra.parameters import check, put_secrets, read_env_file


def _path() -> str:
    return f"/helptal/cmd-{uuid.uuid4().hex[:8]}"


def _values(ssm, path: str) -> dict[str, str]:
    found = {}
    for page in ssm.get_paginator("get_parameters_by_path").paginate(
        Path=path, WithDecryption=True
    ):
        for parameter in page["Parameters"]:
            assert parameter["Type"] == "SecureString"
            found[parameter["Name"].rsplit("/", 1)[1]] = parameter["Value"]
    return found


def test_secrets_from_a_file_are_stored_encrypted_and_random_ones_generated(aws, tmp_path):
    ssm, path = aws.client("ssm"), _path()
    env_file = tmp_path / "prod.env"
    env_file.write_text(
        "# Mailgun\nMAILGUN_API_KEY=key-live-123\nMAILGUN_WEBHOOK_SIGNING_KEY='signing-456'\n"
        "# Stripe\nSTRIPE_SECRET_KEY=sk_live_789\nSTRIPE_WEBHOOK_SECRET=whsec_012\n"
    )

    report = put_secrets(ssm, path, read_env_file(env_file), ask=None)

    values = _values(ssm, path)
    assert values["mailgun-api-key"] == "key-live-123"
    assert values["mailgun-webhook-signing-key"] == "signing-456"
    assert len(values["reply-address-secret"]) >= 48
    assert values["reply-address-secret"] != values["domain-verification-secret"]
    assert values["stripe-secret-key"] == "sk_live_789"
    assert (
        len(values["card-token-key"]) >= 40 and values["card-token-key"] != values["two-factor-key"]
    )
    assert "anthropic-api-key" not in values
    assert not any("key-live-123" in line for line in report)
    lines, complete = check(ssm, path)
    assert complete
    assert any(line.startswith("not set") and "openai-api-key" in line for line in lines)


def test_prompts_for_what_no_file_gives_and_keeps_existing_values(aws):
    ssm, path = aws.client("ssm"), _path()
    asked: list[str] = []

    def ask(secret):
        asked.append(secret.env)
        return {"MAILGUN_API_KEY": "typed-key", "MAILGUN_WEBHOOK_SIGNING_KEY": "typed-sig"}.get(
            secret.env, ""
        )

    put_secrets(ssm, path, {}, ask)
    put_secrets(ssm, path, {"MAILGUN_API_KEY": "another"}, ask)

    assert _values(ssm, path)["mailgun-api-key"] == "typed-key"  # kept without --overwrite
    assert asked.count("MAILGUN_API_KEY") == 1
    assert "REPLY_ADDRESS_SECRET" not in asked  # generated, never asked


def test_check_reports_a_missing_required_secret(aws):
    ssm, path = aws.client("ssm"), _path()

    report = put_secrets(ssm, path, {"MAILGUN_API_KEY": "k"}, ask=None)
    lines, complete = check(ssm, path)

    assert not complete
    assert any(
        line.startswith("MISSING") and "mailgun-webhook-signing-key" in line for line in lines
    )
    assert any(line.startswith("MISSING") for line in report)
