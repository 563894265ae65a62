import pytest

from chalicelib.accounts.passwords import Argon2PasswordHasher, check_password_policy
from chalicelib.errors import ValidationFailed


def test_short_password_is_refused_naming_the_field():
    with pytest.raises(ValidationFailed) as caught:
        check_password_policy("short", "ann@acme.test")
    assert caught.value.details == [{"field": "password", "message": caught.value.message}]
    assert "at least 10" in caught.value.message


@pytest.mark.parametrize("password", ["ann@acme.test", "ANN@ACME.TEST", "annannann1@acme.test"])
def test_password_equal_to_the_email_is_refused(password):
    if password == "annannann1@acme.test":
        check_password_policy(password, "ann@acme.test")  # merely containing it is allowed
        return
    with pytest.raises(ValidationFailed, match="e-mail"):
        check_password_policy(password, "ann@acme.test")


def test_long_enough_password_passes():
    check_password_policy("correct horse battery", "ann@acme.test")


def test_hashes_are_argon2id_and_verify_only_the_right_password():
    hasher = Argon2PasswordHasher()
    hashed = hasher.hash("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert hasher.verify(hashed, "correct horse battery")
    assert not hasher.verify(hashed, "wrong horse battery")
    assert not hasher.verify("not-a-hash", "anything")


def test_the_decoy_costs_what_a_real_password_costs():
    from argon2 import extract_parameters

    from chalicelib.accounts.passwords import DECOY_HASH, Argon2PasswordHasher

    hasher = Argon2PasswordHasher()
    assert extract_parameters(DECOY_HASH) == extract_parameters(hasher.hash("any password 1"))
    assert hasher.verify(DECOY_HASH, "decoy-password-for-timing") is False
