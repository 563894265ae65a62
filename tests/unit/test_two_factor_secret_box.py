"""Two-factor secrets sealed with the deployment's key: AES-256-GCM bound to the user, a key
id in the stored value, the previous key still opening after a rotation, and nothing opening
without a key or once altered."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest

from chalicelib.store.secret_box import (
    SecretBoxError,
    TwoFactorSecretBox,
    decode_key,
    key_id,
    new_key,
)

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
OLD_KEY = "22" * 32
NEW_KEY = base64.b64encode(bytes(range(32))).decode()


def _box(current: str = NEW_KEY, previous: str = "") -> TwoFactorSecretBox:
    return TwoFactorSecretBox(lambda: (current, previous))


def test_a_sealed_secret_names_its_version_and_key_and_holds_no_clear_text():
    sealed = _box().seal("U1", SECRET)
    version, sealed_by, _payload = sealed.split(":")
    assert (version, sealed_by) == ("v1", key_id(decode_key(NEW_KEY)))
    assert SECRET not in sealed and SECRET.lower() not in sealed
    assert _box().open("U1", sealed).secret == SECRET


def test_each_sealing_uses_a_new_nonce():
    box = _box()
    assert box.seal("U1", SECRET) != box.seal("U1", SECRET)


def test_a_secret_sealed_for_one_user_does_not_open_for_another():
    sealed = _box().seal("U1", SECRET)
    with pytest.raises(SecretBoxError):
        _box().open("U2", sealed)


@pytest.mark.parametrize("position", [10, 20, -1])
def test_an_altered_value_does_not_open(position):
    sealed = _box().seal("U1", SECRET)
    flipped = "A" if sealed[position] != "A" else "B"
    with pytest.raises(SecretBoxError):
        _box().open("U1", sealed[:position] + flipped + sealed[position + 1 :])


def test_after_a_rotation_the_previous_key_still_opens_and_says_so():
    sealed_with_old = _box(OLD_KEY).seal("U1", SECRET)
    rotated = _box(NEW_KEY, previous=OLD_KEY)
    opened = rotated.open("U1", sealed_with_old)
    assert (opened.secret, opened.current) == (SECRET, False)
    resealed = rotated.seal("U1", opened.secret)
    assert resealed.split(":")[1] == key_id(decode_key(NEW_KEY))
    assert rotated.open("U1", resealed).current is True


def test_a_value_sealed_by_a_key_neither_current_nor_previous_does_not_open():
    sealed = _box(OLD_KEY).seal("U1", SECRET)
    with pytest.raises(SecretBoxError) as refused:
        _box(NEW_KEY).open("U1", sealed)
    assert refused.value.key_id == key_id(decode_key(OLD_KEY))


@pytest.mark.parametrize("current", ["", "   ", "short", "zz" * 32, base64.b64encode(b"x" * 16)])
def test_without_a_usable_key_nothing_is_sealed_or_opened(current):
    box = _box(current if isinstance(current, str) else current.decode())
    with pytest.raises(SecretBoxError):
        box.seal("U1", SECRET)
    with pytest.raises(SecretBoxError):
        box.open("U1", _box().seal("U1", SECRET))


def test_keys_are_read_at_each_use():
    keys = [NEW_KEY]
    box = TwoFactorSecretBox(lambda: (keys[0], ""))
    sealed = box.seal("U1", SECRET)
    keys[0] = ""
    with pytest.raises(SecretBoxError):
        box.open("U1", sealed)


def test_a_legacy_secret_in_clear_opens_as_not_current_but_other_clear_text_does_not():
    opened = _box().open("U1", SECRET)
    assert (opened.secret, opened.current) == (SECRET, False)
    for stored in ("not a secret", "v2:abc:def", "v1:", "jbswy3dpehpk3pxp"):
        with pytest.raises(SecretBoxError):
            _box().open("U1", stored)


def test_keys_are_accepted_in_hex_base64_and_base64url_and_generated_as_32_bytes():
    raw = bytes(range(200, 232))
    assert decode_key(raw.hex()) == raw
    assert decode_key(base64.b64encode(raw).decode()) == raw
    assert decode_key(base64.urlsafe_b64encode(raw).decode()) == raw
    assert len(decode_key(new_key())) == 32
    assert new_key() != new_key()


def test_sealing_code_is_not_imported_until_a_secret_is_sealed():
    # `import app` (every cold start) must not pay for cryptography.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, chalicelib.store.secret_box, chalicelib.store.accounts_repo;"
            "print('cryptography' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "False"
