"""The rules of two-factor sign-in, without storage: TOTP steps (window, drift, replay is the
caller's), recovery codes, and which requests a member who must still enrol may make."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyotp
import pytest

from chalicelib.accounts import two_factor_codes as codes
from chalicelib.accounts.deps import AccountDeps, AccountPolicy
from chalicelib.accounts.model import (
    Credential,
    CredentialKind,
    LoginChallenge,
    Member,
    Role,
    TwoFactor,
    User,
    Workspace,
)
from chalicelib.accounts.ports import TwoFactorSecretUnreadable
from chalicelib.accounts.sessions import authenticate, open_without_two_factor
from chalicelib.accounts.two_factor import complete_login
from chalicelib.errors import Forbidden, ServiceUnavailable
from chalicelib.ids import token_hash

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_796_000_000  # an epoch second in the middle of a step: 1_796_000_000 % 30 == 20


def _code_at(epoch_seconds: int) -> str:
    return pyotp.TOTP(SECRET).at(epoch_seconds)


def test_the_current_code_matches_its_step():
    assert codes.matching_step(SECRET, _code_at(NOW), NOW) == NOW // 30


def test_the_codes_just_before_and_after_are_accepted_for_clock_drift():
    assert codes.matching_step(SECRET, _code_at(NOW - 30), NOW) == NOW // 30 - 1
    assert codes.matching_step(SECRET, _code_at(NOW + 30), NOW) == NOW // 30 + 1


def test_a_code_two_steps_away_is_refused():
    # Fixed secret and time: these codes differ from the three accepted ones.
    assert codes.matching_step(SECRET, _code_at(NOW - 60), NOW) is None
    assert codes.matching_step(SECRET, _code_at(NOW + 60), NOW) is None


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_what_is_not_six_digits_is_never_a_code(typed):
    assert codes.matching_step(SECRET, typed, NOW) is None


def test_spaces_and_dashes_typed_in_a_code_do_not_matter():
    code = _code_at(NOW)
    assert codes.matching_step(SECRET, f"{code[:3]} {code[3:]}", NOW) == NOW // 30


def test_enrolment_secrets_are_random_base32_and_their_uri_names_helptal_and_the_person():
    first, second = codes.new_secret(), codes.new_secret()
    assert first != second and len(first) == 32
    uri = codes.provisioning_uri(first, "ann@acme.test")
    assert uri.startswith("otpauth://totp/Helptal:ann%40acme.test?")
    assert f"secret={first}" in uri and "issuer=Helptal" in uri


def test_the_enrolment_qr_code_is_an_svg_data_uri_an_img_can_show():
    uri = codes.provisioning_uri(SECRET, "ann@acme.test")
    qr = codes.qr_code_data_uri(uri)
    assert qr.startswith("data:image/svg+xml")
    assert "script" not in qr.lower()


def test_ten_distinct_recovery_codes_in_a_readable_format():
    recovery = codes.new_recovery_codes()
    assert len(set(recovery)) == 10
    for code in recovery:
        assert len(code) == 11 and code[5] == "-"
        assert codes.looks_like_recovery_code(code)
        assert not set(code) & set("01ilo")


def test_a_recovery_code_typed_back_in_capitals_or_without_its_dash_has_the_same_hash():
    code = codes.new_recovery_codes(1)[0]
    assert codes.recovery_code_hash(code.upper()) == codes.recovery_code_hash(code)
    assert codes.recovery_code_hash(code.replace("-", "")) == codes.recovery_code_hash(code)
    assert codes.recovery_code_hash(code) != code


@pytest.mark.parametrize("typed", ["", "123456", "abcde-fghi", "abcde-fghij-k", "00000-11111"])
def test_what_cannot_be_a_recovery_code_is_refused_before_any_lookup(typed):
    assert not codes.looks_like_recovery_code(typed)


@pytest.mark.parametrize(
    ("path", "open_"),
    [
        ("/v1/me", True),
        ("/v1/me/profile", True),
        ("/v1/me/two-factor/confirm", True),
        ("/v1/auth/logout", True),
        ("/v1/members", False),
        ("/v1/members/{user_id}", False),
        ("/v1/tickets", False),
        ("/v1/workspace", False),
        (None, False),
    ],
)
def test_a_member_who_must_enrol_reaches_only_their_profile_and_logout(path, open_):
    assert open_without_two_factor(path) is open_


# -- authentication with a workspace that requires two-factor sign-in ----------------------

TOKEN = "hts_" + "a" * 43
WHEN = datetime(2026, 11, 30, 12, tzinfo=UTC)


@dataclass
class FakeAccounts:
    """The reads authentication makes, and the writes it may repair or record."""

    member: Member
    workspace: Workspace
    user: User
    repaired: list[bool] = field(default_factory=list)

    def get_credential(self, wanted: str) -> Credential | None:
        return Credential(
            token_hash=token_hash(TOKEN),
            kind=CredentialKind.SESSION,
            workspace_id="W1",
            expires_at=None,
            created_at=WHEN,
            user_id="U1",
            last_used_at=int(WHEN.timestamp()) + 10**9,  # recorded "just now"
        )

    def get_member_and_workspace(self, workspace_id: str, user_id: str):
        return self.member, self.workspace

    def get_user(self, user_id: str) -> User:
        return self.user

    def mark_member_two_factor(self, member: Member, on: bool) -> None:
        self.repaired.append(on)


class FixedClock:
    def now(self) -> datetime:
        return WHEN


def _deps(store: FakeAccounts) -> AccountDeps:
    policy = AccountPolicy(3600, 3600, 10, 900, "https://api.helptal.test")
    return AccountDeps(store=store, hasher=None, clock=FixedClock(), outbox=None, policy=policy)  # type: ignore[arg-type]


def _accounts(required: bool, member_flag: bool, user_on: bool) -> FakeAccounts:
    workspace = Workspace("W1", "acme", "Acme", "UTC", "en", 1, WHEN, WHEN)
    if required:
        workspace = Workspace(
            "W1", "acme", "Acme", "UTC", "en", 1, WHEN, WHEN, two_factor_required=True
        )
    two_factor = TwoFactor(SECRET, None, WHEN) if user_on else None
    return FakeAccounts(
        member=Member("W1", "U1", Role.AGENT, "ann@acme.test", "Ann", WHEN, member_flag),
        workspace=workspace,
        user=User("U1", "ann@acme.test", "Ann", "x", WHEN, two_factor=two_factor),
    )


def test_a_member_without_two_factor_in_a_workspace_requiring_it_is_refused_elsewhere():
    store = _accounts(required=True, member_flag=False, user_on=False)
    with pytest.raises(Forbidden) as refused:
        authenticate(_deps(store), f"Bearer {TOKEN}", None, path="/v1/tickets")
    assert refused.value.code == "two_factor_required"
    principal = authenticate(_deps(store), f"Bearer {TOKEN}", None, path="/v1/me/two-factor")
    assert principal.two_factor_missing


def test_a_member_whose_copy_missed_their_enrolment_passes_and_the_copy_is_repaired():
    store = _accounts(required=True, member_flag=False, user_on=True)
    principal = authenticate(_deps(store), f"Bearer {TOKEN}", None, path="/v1/tickets")
    assert not principal.two_factor_missing
    assert store.repaired == [True]


def test_no_requirement_means_no_extra_read_and_no_refusal():
    store = _accounts(required=False, member_flag=False, user_on=False)
    store.get_user = None  # type: ignore[assignment,method-assign]  # must not be called
    principal = authenticate(_deps(store), f"Bearer {TOKEN}", None, path="/v1/tickets")
    assert not principal.two_factor_missing


# -- the second step when the stored secret does not open ----------------------------------


@dataclass
class UnreadableSecretAccounts:
    """A challenge for an enrolled user whose stored secret does not open (no key, a wrong
    key, an altered value): what the store says then."""

    user: User
    attempts: list[str] = field(default_factory=list)
    sessions: list[Credential] = field(default_factory=list)

    def get_login_challenge(self, wanted: str) -> LoginChallenge:
        return LoginChallenge(wanted, "U1", "W1", WHEN, int(WHEN.timestamp()) + 300)

    def get_user(self, user_id: str) -> User:
        return self.user

    def two_factor_secret(self, user: User, *, pending: bool = False) -> str:
        raise TwoFactorSecretUnreadable("sealed by a key neither current nor previous")

    def reserve_password_attempt(self, subject: str, *args: object) -> int:
        self.attempts.append(subject)
        return 1

    def complete_login_challenge(self, challenge: object, session: Credential, **kw: object):
        self.sessions.append(session)


def test_a_secret_that_does_not_open_fails_the_second_step_closed_without_an_attempt():
    user = User("U1", "ann@acme.test", "Ann", "x", WHEN, two_factor=TwoFactor("v1:x:y", None, WHEN))
    store = UnreadableSecretAccounts(user)
    with pytest.raises(ServiceUnavailable) as refused:
        complete_login(_deps(store), "htc_" + "b" * 43, pyotp.TOTP(SECRET).now(), None)  # type: ignore[arg-type]
    assert (refused.value.status, refused.value.code) == (503, "two_factor_unavailable")
    assert store.sessions == [] and store.attempts == []
