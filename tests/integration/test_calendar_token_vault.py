"""Calendar refresh tokens sealed with KMS envelope encryption on the emulator's KMS: the key
and alias the stage's resources create, a fresh data key per seal, and tokens that open only
for the workspace and connection they were sealed for."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib import bootstrap
from chalicelib.settings import get_settings
from chalicelib.store.token_vault import KmsTokenVault, TokenVaultError
from devstack.resources import create_resources

TOKEN = "1//0gRefreshTokenOfAnnAtGoogle-xyz"


@pytest.fixture
def vault(aws) -> KmsTokenVault:
    return KmsTokenVault(lambda: aws.client("kms"), get_settings().calendar_tokens_key)


def test_the_stage_has_a_calendar_tokens_key_behind_its_alias(aws):
    key = aws.client("kms").describe_key(KeyId=get_settings().calendar_tokens_key)

    assert key["KeyMetadata"]["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert key["KeyMetadata"]["Enabled"]


def test_creating_the_resources_again_keeps_the_same_key(aws):
    kms = aws.client("kms")
    before = kms.describe_key(KeyId=get_settings().calendar_tokens_key)["KeyMetadata"]["KeyId"]

    create_resources(get_settings(), endpoint_url=aws.endpoint)

    after = kms.describe_key(KeyId=get_settings().calendar_tokens_key)["KeyMetadata"]["KeyId"]
    assert after == before


def test_a_sealed_token_opens_for_its_workspace_and_connection(vault):
    sealed = vault.seal("ws1", "conn1", TOKEN)

    assert TOKEN.encode() not in sealed.ciphertext + sealed.wrapped_key
    assert len(sealed.nonce) == 12
    assert vault.open("ws1", "conn1", sealed) == TOKEN


def test_each_seal_uses_a_fresh_data_key(vault):
    first, second = vault.seal("ws1", "conn1", TOKEN), vault.seal("ws1", "conn1", TOKEN)

    assert first.wrapped_key != second.wrapped_key
    assert first.ciphertext != second.ciphertext


@pytest.mark.parametrize(("workspace", "connection"), [("ws2", "conn1"), ("ws1", "conn2")])
def test_a_token_moved_to_another_workspace_or_connection_does_not_open(
    vault, workspace, connection
):
    sealed = vault.seal("ws1", "conn1", TOKEN)

    with pytest.raises(TokenVaultError):
        vault.open(workspace, connection, sealed)


def test_an_altered_sealed_token_does_not_open(vault):
    sealed = vault.seal("ws1", "conn1", TOKEN)
    flipped = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]

    with pytest.raises(TokenVaultError):
        vault.open("ws1", "conn1", replace(sealed, ciphertext=flipped))


def test_the_deployments_vault_seals_with_the_configured_key(aws):
    bootstrap.reset()

    vault = bootstrap.token_vault()

    assert vault.open("ws1", "conn1", vault.seal("ws1", "conn1", TOKEN)) == TOKEN
