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


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        (" " * 10, "blank"),
        ("\t \u3000" * 4, "blank"),
        ("\x00" * 10, "control_characters"),
        ("correct horse\x07battery", "control_characters"),
        ("password12", "common"),
        ("QwertyUIOP", "common"),
        ("1234567890", "common"),
    ],
)
def test_blank_control_character_and_common_passwords_are_refused_saying_why(password, problem):
    from chalicelib.accounts.passwords import PROBLEMS, WeakPassword

    with pytest.raises(WeakPassword) as caught:
        check_password_policy(password, "ann@acme.test")
    assert problem in caught.value.problems
    assert caught.value.code == "weak_password"
    assert PROBLEMS[problem] in caught.value.message
    assert caught.value.details == [{"field": "password", "message": caught.value.message}]


def test_an_uncommon_passphrase_with_spaces_and_accents_passes():
    check_password_policy("  crème brûlée au café  ", "ann@acme.test")


def test_the_fast_hasher_still_tells_passwords_apart_and_its_decoy_costs_the_same():
    from argon2 import extract_parameters

    hasher = Argon2PasswordHasher(fast=True)
    hashed = hasher.hash("correct horse battery")
    assert hasher.verify(hashed, "correct horse battery")
    assert not hasher.verify(hashed, "wrong horse battery")
    hasher.verify_decoy("anything at all")
    assert extract_parameters(hasher._decoy) == extract_parameters(hashed)
    assert (
        extract_parameters(hashed).memory_cost
        < extract_parameters(Argon2PasswordHasher().hash("x")).memory_cost
    )


@pytest.mark.parametrize(
    ("asked", "aws", "fast"),
    [
        ("fast", {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}, True),
        ("fast", {}, False),  # a deployed stack reaches AWS itself: never cheap hashes
        ("fast", {"AWS_REGION": "ap-southeast-1"}, False),
        ("standard", {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}, False),
        ("anything", {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}, False),
    ],
)
def test_cheap_password_hashes_are_only_ever_used_behind_a_local_emulator(asked, aws, fast):
    from dataclasses import replace

    from chalicelib.settings import get_settings

    settings = replace(
        get_settings(), password_hashing=asked, aws_environment=tuple(sorted(aws.items()))
    )
    assert settings.fast_password_hashing is fast
