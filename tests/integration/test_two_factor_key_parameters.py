"""`python -m infra.parameters`: a stage's two-factor key is generated (32 random bytes) and
rotated by keeping the current key as the previous one."""

from __future__ import annotations

import uuid

from chalicelib.secret_store import FUNCTION_SECRETS
from chalicelib.store.secret_box import TwoFactorSecretBox, decode_key
from infra.parameters import put_secrets, rotate_two_factor_key


def _value(ssm, name):
    return ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]


def test_a_stage_gets_a_generated_two_factor_key_and_only_the_api_reads_it(aws):
    ssm, path = aws.client("ssm"), f"/helptal/cmd-{uuid.uuid4().hex[:8]}"

    report = put_secrets(ssm, path, {"MAILGUN_API_KEY": "k"}, ask=None)

    key = _value(ssm, f"{path}/two-factor-key")
    assert len(decode_key(key)) == 32
    assert not any(key in line for line in report)
    assert any(line.startswith("skipped") and "two-factor-key-previous" in line for line in report)
    readers = {name for name, fields in FUNCTION_SECRETS.items() if "two_factor_key" in fields}
    assert readers == {"api_handler"}


def test_rotating_keeps_the_old_key_as_previous_so_sealed_secrets_still_open(aws):
    ssm, path = aws.client("ssm"), f"/helptal/cmd-{uuid.uuid4().hex[:8]}"
    put_secrets(ssm, path, {}, ask=None)
    old = _value(ssm, f"{path}/two-factor-key")
    sealed = TwoFactorSecretBox(lambda: (old, "")).seal("U1", "JBSWY3DPEHPK3PXP")

    report = rotate_two_factor_key(ssm, path)

    new = _value(ssm, f"{path}/two-factor-key")
    assert new != old and _value(ssm, f"{path}/two-factor-key-previous") == old
    assert not any(old in line or new in line for line in report)
    opened = TwoFactorSecretBox(lambda: (new, old)).open("U1", sealed)
    assert (opened.secret, opened.current) == ("JBSWY3DPEHPK3PXP", False)
