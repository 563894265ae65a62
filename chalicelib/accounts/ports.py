"""What the accounts services need from storage and the outside world (ports)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from chalicelib.accounts.model import (
    ApiKey,
    Credential,
    EmailLink,
    Invitation,
    LoginChallenge,
    Member,
    Page,
    Role,
    User,
    Workspace,
)
from chalicelib.mail.outbound import OutboundMail


class SlugTaken(Exception):
    pass


class EmailTaken(Exception):
    pass


class AlreadyMember(Exception):
    pass


class LastOwner(Exception):
    pass


class MemberChanged(Exception):
    """The membership was changed or removed by someone else since it was read."""


class InvitationNoLongerPending(Exception):
    pass


class SeatsExhausted(Exception):
    """No seat is free for one more member: every paid seat is taken, or the trial that
    gave the seats has ended.  Carries the account as the refused write found it."""

    def __init__(
        self, used: int, paid: int, plan_id: str, status: str, trial_ended: bool = False
    ) -> None:
        super().__init__(f"{used} of {paid} seats used")
        self.used = used
        self.paid = paid
        self.plan_id = plan_id
        self.status = status
        self.trial_ended = trial_ended


class ApiKeyChanged(Exception):
    """The API key was transferred or revoked by someone else since it was read."""


class LinkUsed(Exception):
    """The e-mailed link was used (or expired and was deleted) meanwhile."""


class PasswordChanged(Exception):
    """The password was changed by another request since it was checked."""


class TwoFactorChanged(Exception):
    """Two-factor sign-in was turned on, or its offer replaced, by another request."""


class CodeUsed(Exception):
    """The two-factor code (or recovery code) was used already."""


class TwoFactorSecretUnreadable(Exception):
    """A stored two-factor secret cannot be opened or sealed: the deployment has no usable
    key, or the value was sealed by another key, for another user, or altered.  An operator's
    problem (logged by the store), never a user's: sign-in with it fails closed."""


class ChallengeUsed(Exception):
    """The login challenge was used already (or expired and was deleted)."""


class AttemptsUsedUp(Exception):
    """No password attempt is left in the current window."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds


class AccountsStore(Protocol):
    """Persistence of workspaces, users, members, credentials and invitations.

    Every method makes a bounded number of calls regardless of workspace size.
    """

    def create_workspace(
        self,
        workspace: Workspace,
        owner: User,
        owner_is_new: bool,
        membership: Member,
        session: Credential,
        confirmation: EmailLink | None = None,
    ) -> None:
        """Atomically: workspace + slug claim (+ user + e-mail claim) + owner + session (+ the
        link confirming the owner's address) + the billing account's trial, its owner's seat
        taken.  Raises SlugTaken / EmailTaken."""

    def get_workspace(self, workspace_id: str) -> Workspace | None: ...
    def find_workspace_by_slug(self, slug: str) -> Workspace | None: ...
    def get_workspaces(self, workspace_ids: list[str]) -> list[Workspace]: ...
    def update_workspace(
        self,
        workspace_id: str,
        *,
        name: str | None,
        timezone: str | None,
        locale: str | None,
        updated_at: object,
        formality: str | None = None,
        two_factor_required: bool | None = None,
    ) -> Workspace: ...

    def get_user(self, user_id: str) -> User | None: ...
    def find_user_by_email(self, email: str) -> User | None: ...

    def get_member(self, workspace_id: str, user_id: str) -> Member | None: ...
    def get_member_and_workspace(
        self, workspace_id: str, user_id: str
    ) -> tuple[Member | None, Workspace | None]:
        """Both in one call (authentication reads them on every session request)."""

    def mark_member_two_factor(self, member: Member, on: bool) -> None:
        """Repairs the membership's copy of the user's two-factor state (never raises)."""

    def list_members(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Member]: ...
    def list_memberships_of_user(self, user_id: str, limit: int) -> list[Member]: ...
    def change_role(self, member: Member, new_role: Role) -> Member:
        """Raises LastOwner if this would leave the workspace with no owner."""

    def remove_member(self, member: Member, revoked_keys: Sequence[ApiKey] = ()) -> None:
        """Removes the membership, frees its seat and revokes `revoked_keys` (at most 45),
        atomically.  Raises LastOwner if this would leave the workspace with no owner."""

    def put_credential(self, credential: Credential) -> None: ...
    def get_credential(self, token_hash: str) -> Credential | None: ...
    def delete_credential(self, token_hash: str) -> None: ...
    def list_sessions_of_user(self, user_id: str, limit: int) -> list[Credential]: ...
    def record_session_use(self, credential: Credential, used_at: datetime) -> None:
        """Marks the session used (at most once per 5 minutes; never raises)."""

    def delete_credentials(self, token_hashes: Sequence[str]) -> None:
        """Deletes up to 100 credentials in one transaction."""

    def update_profile(
        self,
        user: User,
        *,
        name: str | None,
        locale: str | None,
        avatar: str | None,
        remove_avatar: bool,
        memberships: Sequence[Member],
    ) -> None:
        """The user's name, language, avatar, and the name's copy on `memberships` (at most
        99), atomically."""

    def change_password(self, user: User, password_hash: str, signed_out: Sequence[str]) -> None:
        """Sets the password and deletes the sessions `signed_out`, atomically.  Raises
        PasswordChanged when it changed since `user` was read."""

    def offer_two_factor(self, user: User, secret: str) -> None:
        """Keeps the secret to confirm (sealed).  Raises TwoFactorChanged when already on,
        TwoFactorSecretUnreadable when it cannot be sealed."""

    def two_factor_secret(self, user: User, *, pending: bool = False) -> str | None:
        """The user's TOTP secret in clear (the offered one when `pending`), None when there
        is none.  Raises TwoFactorSecretUnreadable."""

    def refresh_two_factor_secret(self, user: User) -> None:
        """Seals the user's secret again with the current key when an earlier key (or none)
        sealed it: one conditional write, only then.  Never raises."""

    def enable_two_factor(
        self,
        user: User,
        secret: str,
        step: int,
        recovery_code_hashes: Sequence[str],
        at: datetime,
        memberships: Sequence[Member],
    ) -> None:
        """Turns the offered secret on (`secret`, in clear, sealed again) with its recovery
        codes, atomically.  Raises TwoFactorChanged, TwoFactorSecretUnreadable."""

    def disable_two_factor(self, user: User, memberships: Sequence[Member]) -> None: ...
    def replace_recovery_codes(
        self, user: User, recovery_code_hashes: Sequence[str], at: datetime
    ) -> None: ...
    def count_recovery_codes(self, user_id: str) -> int: ...
    def has_recovery_code(self, user_id: str, code_hash: str) -> bool: ...
    def accept_two_factor_step(self, user_id: str, step: int) -> None:
        """Raises CodeUsed when a code of this step (or a later one) was used."""

    def put_login_challenge(self, challenge: LoginChallenge) -> None: ...
    def get_login_challenge(self, token_hash: str) -> LoginChallenge | None: ...
    def complete_login_challenge(
        self,
        challenge: LoginChallenge,
        session: Credential,
        *,
        step: int | None = None,
        recovery_code_hash: str | None = None,
    ) -> None:
        """Uses the challenge and the code and opens the session, atomically.  Raises
        ChallengeUsed or CodeUsed."""

    def put_email_link(self, link: EmailLink) -> None: ...
    def get_email_link(self, token_hash: str) -> EmailLink | None: ...
    def confirm_email(self, link: EmailLink, at: datetime) -> None:
        """Uses the link and marks the user (and their workspace) confirmed, atomically.
        Raises LinkUsed when it was used meanwhile."""

    def reset_password(
        self, link: EmailLink, password_hash: str, at: datetime, signed_out: Sequence[str]
    ) -> None:
        """Uses the link, sets the password and deletes the sessions `signed_out`,
        atomically.  Raises LinkUsed when it was used meanwhile."""

    def create_api_key(self, api_key: ApiKey, credential: Credential) -> None: ...
    def list_api_keys(self, workspace_id: str) -> list[ApiKey]: ...
    def get_api_key(self, workspace_id: str, api_key_id: str) -> ApiKey | None: ...
    def delete_api_key(self, api_key: ApiKey) -> None: ...
    def list_member_api_keys(self, workspace_id: str, user_id: str) -> list[ApiKey]:
        """The keys a member holds (one Query of their key list, no Scan)."""

    def transfer_api_key(self, api_key: ApiKey, member_id: str) -> ApiKey:
        """Gives the key to another member.  Raises ApiKeyChanged."""

    def record_api_key_use(self, credential: Credential, used_at: datetime) -> None:
        """Marks the key used (at most once a minute; never raises)."""

    def create_invitation(self, invitation: Invitation) -> None: ...
    def get_invitation(self, workspace_id: str, invitation_id: str) -> Invitation | None: ...
    def find_invitation_by_token(self, token_hash: str) -> Invitation | None: ...
    def list_pending_invitations(self, workspace_id: str, limit: int) -> list[Invitation]: ...
    def revoke_invitation(self, invitation: Invitation) -> None:
        """Raises InvitationNoLongerPending."""

    def accept_invitation(
        self,
        invitation: Invitation,
        user: User,
        user_is_new: bool,
        membership: Member,
        session: Credential,
        now_epoch: int,
    ) -> None:
        """Atomically marks the invitation accepted (only if still pending and valid), creates
        the user if new and the membership, and the session, and takes a seat (only if one
        is free and the trial, if any, has not ended).  Raises InvitationNoLongerPending,
        AlreadyMember, SeatsExhausted, EmailTaken."""

    def reserve_password_attempt(
        self, subject: str, now_epoch: int, window_seconds: int, max_attempts: int
    ) -> int:
        """Atomically takes one of the `max_attempts` password attempts of the subject's
        window (opening a window if none is current) and returns its number; raises
        AttemptsUsedUp, whatever the concurrency, once they are all taken."""

    def clear_password_attempts(self, subject: str, attempt: int) -> None:
        """Ends the window after a right password, unless attempts were taken after `attempt`."""


class MailOutbox(Protocol):
    """Queues an e-mail for the mail-out worker (recorded first, so it is never lost)."""

    def enqueue(self, mail: OutboundMail) -> None: ...
    def send_recorded(self, mail: OutboundMail) -> None:
        """Queues a mail whose record was written as queued in another transaction."""


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...
    def verify_decoy(self, password: str) -> None:
        """Spends the time of a verification, for e-mails that have no account."""
