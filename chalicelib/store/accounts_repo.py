"""pynamodb implementation of `AccountsStore` (see the access-pattern table in models.py)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, NoReturn

from pynamodb.exceptions import (
    DeleteError,
    PutError,
    PynamoDBException,
    TransactWriteError,
    UpdateError,
)
from pynamodb.expressions.update import Action

from chalicelib.accounts.model import (
    ApiKey,
    Credential,
    CredentialKind,
    EmailLink,
    Invitation,
    InvitationStatus,
    LinkPurpose,
    LoginChallenge,
    Member,
    Page,
    Role,
    TwoFactor,
    User,
    Workspace,
)
from chalicelib.accounts.ports import (
    AlreadyMember,
    ApiKeyChanged,
    AttemptsUsedUp,
    ChallengeUsed,
    CodeUsed,
    EmailTaken,
    InvitationNoLongerPending,
    LastOwner,
    LinkUsed,
    MemberChanged,
    PasswordChanged,
    SeatsExhausted,
    SlugTaken,
    TwoFactorChanged,
    TwoFactorSecretUnreadable,
)
from chalicelib.accounts.sessions import (
    API_KEY_USE_RESOLUTION_SECONDS,
    SESSION_USE_RESOLUTION_SECONDS,
)
from chalicelib.billing.trial import new_trial
from chalicelib.store import keys
from chalicelib.store.billing_repo import billing_account_item
from chalicelib.store.models import (
    ApiKeyItem,
    BillingAccountItem,
    CredentialItem,
    EmailLinkItem,
    EmailLookup,
    InvitationItem,
    InvitationLookup,
    Item,
    LoginChallengeItem,
    LoginThrottleItem,
    MembershipItem,
    RecoveryCodeItem,
    SlugLookup,
    UserItem,
    WorkspaceItem,
)
from chalicelib.store.paging import decode_cursor, encode_cursor, one_slice
from chalicelib.store.secret_box import SecretBoxError, TwoFactorSecretBox
from chalicelib.store.transactions import CONDITION_FAILED, cancellation_reasons, transaction

logger = logging.getLogger(__name__)


def _workspace(item: WorkspaceItem) -> Workspace:
    return Workspace(
        id=item.workspace_id,
        slug=item.slug,
        name=item.name,
        timezone=item.timezone,
        locale=item.locale,
        owner_count=int(item.owner_count),
        created_at=item.created_at,
        updated_at=item.updated_at,
        formality=item.formality or "formal",
        email_confirmed_at=item.email_confirmed_at,
        two_factor_required=bool(item.two_factor_required),
    )


def _user(item: UserItem) -> User:
    return User(
        id=item.user_id,
        email=item.email,
        name=item.name,
        password_hash=item.password_hash,
        created_at=item.created_at,
        email_confirmed_at=item.email_confirmed_at,
        locale=item.locale,
        avatar=item.avatar,
        two_factor=TwoFactor(
            sealed_secret=item.two_factor_secret,
            sealed_pending_secret=item.two_factor_pending_secret,
            enabled_at=item.two_factor_enabled_at,
            last_step=int(item.two_factor_last_step or 0),
        )
        if item.two_factor_secret or item.two_factor_pending_secret
        else None,
    )


def _member(item: MembershipItem) -> Member:
    return Member(
        workspace_id=item.workspace_id,
        user_id=item.user_id,
        role=Role(item.role),
        email=item.email,
        name=item.name,
        joined_at=item.joined_at,
        two_factor=bool(item.two_factor),
    )


def _credential(item: CredentialItem) -> Credential:
    return Credential(
        token_hash=item.pk.removeprefix("CRED#"),
        kind=CredentialKind(item.credential_kind),
        workspace_id=item.workspace_id,
        expires_at=int(item.expires_at) if item.expires_at is not None else None,
        created_at=item.created_at,
        user_id=item.user_id,
        api_key_id=item.api_key_id,
        role=Role(item.role) if item.role else None,
        member_id=item.member_id,
        last_used_at=int(item.last_used_at) if item.last_used_at is not None else None,
        client=item.client,
    )


def _api_key(item: ApiKeyItem) -> ApiKey:
    return ApiKey(
        id=item.api_key_id,
        workspace_id=item.workspace_id,
        name=item.name,
        role=Role(item.role),
        prefix=item.prefix,
        token_hash=item.token_hash,
        created_by=item.created_by,
        created_at=item.created_at,
        member_id=item.member_id,
        last_used_at=item.last_used_at,
    )


def _api_key_item(api_key: ApiKey) -> ApiKeyItem:
    held = api_key.member_id is not None
    return ApiKeyItem(
        keys.workspace_pk(api_key.workspace_id),
        keys.api_key_sk(api_key.id),
        gsi1pk=keys.api_keys_of_member(api_key.workspace_id, api_key.member_id or "")
        if held
        else None,
        gsi1sk=keys.api_key_sk(api_key.id) if held else None,
        api_key_id=api_key.id,
        workspace_id=api_key.workspace_id,
        name=api_key.name,
        role=api_key.role.value,
        prefix=api_key.prefix,
        token_hash=api_key.token_hash,
        created_by=api_key.created_by,
        created_at=api_key.created_at,
        member_id=api_key.member_id,
        last_used_at=api_key.last_used_at,
    )


def _invitation(item: InvitationItem) -> Invitation:
    return Invitation(
        id=item.invitation_id,
        workspace_id=item.workspace_id,
        email=item.email,
        role=Role(item.role),
        status=InvitationStatus(item.status),
        token_hash=item.token_hash,
        invited_by=item.invited_by,
        created_at=item.created_at,
        valid_until=int(item.valid_until),
        accepted_by=item.accepted_by,
        locale=item.locale,
    )


def _workspace_item(workspace: Workspace) -> WorkspaceItem:
    return WorkspaceItem(
        keys.workspace_pk(workspace.id),
        keys.WORKSPACE_SK,
        workspace_id=workspace.id,
        slug=workspace.slug,
        name=workspace.name,
        timezone=workspace.timezone,
        locale=workspace.locale,
        formality=workspace.formality,
        owner_count=workspace.owner_count,
        created_at=workspace.created_at,
        updated_at=workspace.updated_at,
        email_confirmed_at=workspace.email_confirmed_at,
        two_factor_required=workspace.two_factor_required or None,
    )


def _user_item(user: User) -> UserItem:
    return UserItem(
        keys.user_pk(user.id),
        keys.USER_SK,
        user_id=user.id,
        email=user.email,
        name=user.name,
        password_hash=user.password_hash,
        created_at=user.created_at,
        email_confirmed_at=user.email_confirmed_at,
        locale=user.locale,
        avatar=user.avatar,
    )


def _membership_item(member: Member) -> MembershipItem:
    admin = member.role.can_manage_members
    return MembershipItem(
        keys.workspace_pk(member.workspace_id),
        keys.member_sk(member.user_id),
        gsi1pk=keys.user_pk(member.user_id),
        gsi1sk=keys.workspace_pk(member.workspace_id),
        gsi2pk=keys.WORKSPACE_ADMINS_VIEW if admin else None,
        gsi2sk=_admin_order(member, member.joined_at) if admin else None,
        workspace_id=member.workspace_id,
        user_id=member.user_id,
        role=member.role.value,
        email=member.email,
        name=member.name,
        joined_at=member.joined_at,
        two_factor=member.two_factor or None,
    )


def _admin_order(member: Member, since: datetime) -> str:
    """The membership's place in the view of owners and admins (GSI2 WSADMINS): when it
    became one (fixed width, UTC: sorts as it orders)."""
    moment = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return keys.workspace_admin_order(moment, member.workspace_id, member.user_id)


def _admin_view_actions(member: Member, new_role: Role) -> list[Action]:
    """A role change's move in the view of owners and admins: in when it becomes one (an
    owner made admin keeps its place), out when it becomes an agent."""
    if not new_role.can_manage_members:
        return [MembershipItem.gsi2pk.remove(), MembershipItem.gsi2sk.remove()]
    # The write's own time: the notice job reads the view onwards from where it stopped.
    since = _admin_order(member, datetime.now(UTC))
    return [
        MembershipItem.gsi2pk.set(keys.WORKSPACE_ADMINS_VIEW),
        MembershipItem.gsi2sk.set(MembershipItem.gsi2sk | since),
    ]


def _credential_item(credential: Credential) -> CredentialItem:
    session = credential.kind is CredentialKind.SESSION and credential.user_id is not None
    return CredentialItem(
        keys.credential_pk(credential.token_hash),
        keys.LOOKUP_SK,
        gsi1pk=keys.sessions_of_user(str(credential.user_id)) if session else None,
        gsi1sk=f"{credential.created_at.isoformat()}#{credential.token_hash}" if session else None,
        credential_kind=credential.kind.value,
        workspace_id=credential.workspace_id,
        user_id=credential.user_id,
        api_key_id=credential.api_key_id,
        role=credential.role.value if credential.role else None,
        created_at=credential.created_at,
        expires_at=credential.expires_at,
        member_id=credential.member_id,
        last_used_at=credential.last_used_at,
        client=credential.client,
    )


def _email_link_item(link: EmailLink) -> EmailLinkItem:
    return EmailLinkItem(
        keys.email_link_pk(link.token_hash),
        keys.LOOKUP_SK,
        purpose=link.purpose.value,
        user_id=link.user_id,
        email=link.email,
        locale=link.locale,
        workspace_id=link.workspace_id,
        created_at=link.created_at,
        expires_at=link.expires_at,
    )


def _email_link(item: EmailLinkItem) -> EmailLink:
    return EmailLink(
        token_hash=item.pk.removeprefix("LINK#"),
        purpose=LinkPurpose(item.purpose),
        user_id=item.user_id,
        email=item.email,
        created_at=item.created_at,
        expires_at=int(item.expires_at or 0),
        locale=item.locale or "en",
        workspace_id=item.workspace_id,
    )


def reasons_say_condition(error: TransactWriteError, index: int) -> bool:
    """Whether the transaction's `index`-th write was refused by its condition."""
    reasons = cancellation_reasons(error)
    return len(reasons) > index and reasons[index] == "ConditionalCheckFailed"


def _membership_refused(error: TransactWriteError) -> NoReturn:
    """Why a membership transaction (membership first, then the workspace) was refused."""
    reasons = cancellation_reasons(error)
    if reasons and reasons[0] == "ConditionalCheckFailed":
        raise MemberChanged() from error
    if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
        raise LastOwner() from error
    raise error


TRANSACTION_CONFLICT = "TransactionConflict"
CONFLICT_TRIES = 5
# Rounds of a password attempt's reservation lost to requests opening or clearing the same
# window (3 calls a round at most).
THROTTLE_RACE_ROUNDS = 8


def _retrying_conflicts(write: Callable[[], None]) -> None:
    """Runs a transaction again (a few times, jittered) when DynamoDB cancelled it only
    because another one was writing an item it touches: every join and departure of a
    workspace moves its one seat counter."""
    for attempt in range(CONFLICT_TRIES):
        try:
            write()
            return
        except TransactWriteError as e:
            reasons = cancellation_reasons(e)
            last = attempt == CONFLICT_TRIES - 1
            if last or CONDITION_FAILED in reasons or TRANSACTION_CONFLICT not in reasons:
                raise
        time.sleep(random.uniform(0, 0.025 * 2**attempt))


class _SeatNotCounted(Exception):
    """The workspace's seat counter could not move: no billing account (a workspace older
    than billing), or a count already at zero."""


def _seat_taken(workspace_id: str, now_epoch: int) -> tuple[BillingAccountItem, Action, Any]:
    """One more member: `seats_used + 1` while a paid seat is free and the trial, if any,
    has not ended."""
    return (
        BillingAccountItem(keys.workspace_pk(workspace_id), keys.BILLING_SK),
        BillingAccountItem.seats_used.add(1),
        (BillingAccountItem.seats_used < BillingAccountItem.seats_paid)
        & (
            BillingAccountItem.seat_limit_until.does_not_exist()
            | (BillingAccountItem.seat_limit_until > now_epoch)
        ),
    )


def _seat_freed(workspace_id: str) -> tuple[BillingAccountItem, Action, Any]:
    return (
        BillingAccountItem(keys.workspace_pk(workspace_id), keys.BILLING_SK),
        BillingAccountItem.seats_used.add(-1),
        BillingAccountItem.seats_used > 0,
    )


def _billing_item(workspace_id: str) -> BillingAccountItem | None:
    try:
        return BillingAccountItem.get(
            keys.workspace_pk(workspace_id), keys.BILLING_SK, consistent_read=True
        )
    except BillingAccountItem.DoesNotExist:
        return None


def _open_billing_account(workspace_id: str, now: datetime) -> None:
    """The trial of a workspace created before billing, its members counted (a Query of
    counts only); written only if none exists, so a concurrent opening wins as well."""
    members = MembershipItem.count(
        keys.workspace_pk(workspace_id),
        MembershipItem.sk.startswith(keys.MEMBER_PREFIX),
        consistent_read=True,
    )
    account = new_trial(workspace_id, now, seats_used=members)
    try:
        billing_account_item(account).save(condition=Item.pk.does_not_exist())
    except PutError as e:
        if e.cause_response_code != "ConditionalCheckFailedException":
            raise


def _seats_exhausted(item: BillingAccountItem, now_epoch: int) -> SeatsExhausted:
    until = item.seat_limit_until
    return SeatsExhausted(
        used=int(item.seats_used or 0),
        paid=int(item.seats_paid),
        plan_id=item.plan_id,
        status=item.status,
        trial_ended=until is not None and int(until) <= now_epoch,
    )


class DynamoAccountsStore:
    """Stores account data in the single table.  Every method is O(1) calls, or one page.
    Two-factor secrets are kept sealed by `secret_box` (never in clear)."""

    def __init__(self, secret_box: TwoFactorSecretBox | None = None) -> None:
        self.secret_box = secret_box

    # -- workspaces -------------------------------------------------------------------------

    def create_workspace(
        self,
        workspace: Workspace,
        owner: User,
        owner_is_new: bool,
        membership: Member,
        session: Credential,
        confirmation: EmailLink | None = None,
    ) -> None:
        try:
            with transaction() as tx:
                tx.save(_workspace_item(workspace), condition=Item.pk.does_not_exist())
                tx.save(
                    SlugLookup(
                        keys.slug_pk(workspace.slug), keys.LOOKUP_SK, workspace_id=workspace.id
                    ),
                    condition=Item.pk.does_not_exist(),
                )
                if owner_is_new:
                    tx.save(_user_item(owner), condition=Item.pk.does_not_exist())
                    tx.save(
                        EmailLookup(keys.email_pk(owner.email), keys.LOOKUP_SK, user_id=owner.id),
                        condition=Item.pk.does_not_exist(),
                    )
                tx.save(_membership_item(membership), condition=Item.pk.does_not_exist())
                tx.save(_credential_item(session), condition=Item.pk.does_not_exist())
                if confirmation is not None:
                    tx.save(_email_link_item(confirmation), condition=Item.pk.does_not_exist())
                # The trial, its first seat the owner's.
                trial = new_trial(workspace.id, workspace.created_at, seats_used=1)
                tx.save(billing_account_item(trial), condition=Item.pk.does_not_exist())
        except TransactWriteError as e:
            reasons = cancellation_reasons(e)
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise SlugTaken() from e
            if owner_is_new and len(reasons) > 3 and reasons[3] == "ConditionalCheckFailed":
                raise EmailTaken() from e
            raise

    def get_workspace(self, workspace_id: str) -> Workspace | None:
        try:
            return _workspace(WorkspaceItem.get(keys.workspace_pk(workspace_id), keys.WORKSPACE_SK))
        except WorkspaceItem.DoesNotExist:
            return None

    def find_workspace_by_slug(self, slug: str) -> Workspace | None:
        try:
            lookup = SlugLookup.get(keys.slug_pk(slug), keys.LOOKUP_SK)
        except SlugLookup.DoesNotExist:
            return None
        return self.get_workspace(lookup.workspace_id)

    def get_workspaces(self, workspace_ids: list[str]) -> list[Workspace]:
        wanted = [(keys.workspace_pk(w), keys.WORKSPACE_SK) for w in dict.fromkeys(workspace_ids)]
        found = {item.workspace_id: _workspace(item) for item in WorkspaceItem.batch_get(wanted)}
        return [found[w] for w in workspace_ids if w in found]

    def update_workspace(
        self,
        workspace_id: str,
        *,
        name: str | None,
        timezone: str | None,
        locale: str | None,
        updated_at: Any,
        formality: str | None = None,
        two_factor_required: bool | None = None,
    ) -> Workspace:
        actions: list[Action] = [WorkspaceItem.updated_at.set(updated_at)]
        if two_factor_required is not None:
            actions.append(WorkspaceItem.two_factor_required.set(two_factor_required))
        if formality is not None:
            actions.append(WorkspaceItem.formality.set(formality))
        if name is not None:
            actions.append(WorkspaceItem.name.set(name))
        if timezone is not None:
            actions.append(WorkspaceItem.timezone.set(timezone))
        if locale is not None:
            actions.append(WorkspaceItem.locale.set(locale))
        item = WorkspaceItem(keys.workspace_pk(workspace_id), keys.WORKSPACE_SK)
        item.update(actions=actions, condition=Item.pk.exists())
        return _workspace(item)

    # -- users and members ------------------------------------------------------------------

    def get_user(self, user_id: str) -> User | None:
        try:
            return _user(UserItem.get(keys.user_pk(user_id), keys.USER_SK))
        except UserItem.DoesNotExist:
            return None

    def find_user_by_email(self, email: str) -> User | None:
        try:
            lookup = EmailLookup.get(keys.email_pk(email), keys.LOOKUP_SK)
        except EmailLookup.DoesNotExist:
            return None
        return self.get_user(lookup.user_id)

    def get_member(self, workspace_id: str, user_id: str) -> Member | None:
        try:
            return _member(
                MembershipItem.get(keys.workspace_pk(workspace_id), keys.member_sk(user_id))
            )
        except MembershipItem.DoesNotExist:
            return None

    def get_member_and_workspace(
        self, workspace_id: str, user_id: str
    ) -> tuple[Member | None, Workspace | None]:
        """The membership and its workspace in one BatchGetItem (authentication's read)."""
        pk = keys.workspace_pk(workspace_id)
        member: Member | None = None
        workspace: Workspace | None = None
        for item in Item.batch_get([(pk, keys.member_sk(user_id)), (pk, keys.WORKSPACE_SK)]):
            if isinstance(item, MembershipItem):
                member = _member(item)
            elif isinstance(item, WorkspaceItem):
                workspace = _workspace(item)
        return member, workspace

    def mark_member_two_factor(self, member: Member, on: bool) -> None:
        """Repairs a membership's copy of the user's two-factor state (never raises)."""
        try:
            _membership_item(member).update(
                actions=[MembershipItem.two_factor.set(on)], condition=Item.pk.exists()
            )
        except PynamoDBException:
            logger.warning("could not copy the two-factor state to a membership", exc_info=True)

    def list_members(self, workspace_id: str, cursor: str | None, limit: int) -> Page[Member]:
        pk = keys.workspace_pk(workspace_id)
        result = MembershipItem.query(
            pk,
            MembershipItem.sk.startswith(keys.MEMBER_PREFIX),
            limit=limit,
            last_evaluated_key=decode_cursor(
                cursor, {"PK": pk}, sort_prefix=("SK", keys.MEMBER_PREFIX)
            ),
        )
        members = [_member(item) for item in result]
        return Page(members, encode_cursor(result.last_evaluated_key))

    def list_memberships_of_user(self, user_id: str, limit: int) -> list[Member]:
        items = Item.by_user.query(keys.user_pk(user_id), limit=limit)
        return [_member(item) for item in items if isinstance(item, MembershipItem)]

    def change_role(self, member: Member, new_role: Role) -> Member:
        delta = (new_role is Role.OWNER) - (member.role is Role.OWNER)
        try:
            with transaction() as tx:
                tx.update(
                    _membership_item(member),
                    actions=[
                        MembershipItem.role.set(new_role.value),
                        *_admin_view_actions(member, new_role),
                    ],
                    condition=MembershipItem.role == member.role.value,
                )
                if delta:
                    ws = WorkspaceItem(keys.workspace_pk(member.workspace_id), keys.WORKSPACE_SK)
                    condition = Item.pk.exists()
                    if delta < 0:
                        condition = condition & (WorkspaceItem.owner_count > 1)
                    tx.update(
                        ws, actions=[WorkspaceItem.owner_count.add(delta)], condition=condition
                    )
        except TransactWriteError as e:
            _membership_refused(e)
        return replace(member, role=new_role)

    def remove_member(self, member: Member, revoked_keys: Sequence[ApiKey] = ()) -> None:
        try:
            self._remove_member(member, revoked_keys, free_seat=True)
        except _SeatNotCounted:
            # A person is never kept in for a counter: the account opened later counts them.
            logger.warning(
                "a member left a workspace whose seat count could not move",
                extra={"workspace_id": member.workspace_id},
            )
            self._remove_member(member, revoked_keys, free_seat=False)

    def _remove_member(
        self, member: Member, revoked_keys: Sequence[ApiKey], *, free_seat: bool
    ) -> None:
        seat_index = 1 + (member.role is Role.OWNER) + 2 * len(revoked_keys)

        def write() -> None:
            with transaction() as tx:
                # The role read is the role removed: the owner count stays true.
                tx.delete(
                    _membership_item(member), condition=MembershipItem.role == member.role.value
                )
                if member.role is Role.OWNER:
                    ws = WorkspaceItem(keys.workspace_pk(member.workspace_id), keys.WORKSPACE_SK)
                    tx.update(
                        ws,
                        actions=[WorkspaceItem.owner_count.add(-1)],
                        condition=WorkspaceItem.owner_count > 1,
                    )
                for api_key in revoked_keys:
                    tx.delete(
                        ApiKeyItem(
                            keys.workspace_pk(api_key.workspace_id), keys.api_key_sk(api_key.id)
                        )
                    )
                    tx.delete(
                        CredentialItem(keys.credential_pk(api_key.token_hash), keys.LOOKUP_SK)
                    )
                if free_seat:
                    account, freed, counted = _seat_freed(member.workspace_id)
                    tx.update(account, actions=[freed], condition=counted)

        try:
            _retrying_conflicts(write)
        except TransactWriteError as e:
            reasons = cancellation_reasons(e)
            others = [r for i, r in enumerate(reasons) if i != seat_index and r == CONDITION_FAILED]
            if free_seat and reasons_say_condition(e, seat_index) and not others:
                raise _SeatNotCounted() from e
            _membership_refused(e)

    # -- credentials ------------------------------------------------------------------------

    def put_credential(self, credential: Credential) -> None:
        _credential_item(credential).save(condition=Item.pk.does_not_exist())

    def get_credential(self, token_hash: str) -> Credential | None:
        try:
            return _credential(CredentialItem.get(keys.credential_pk(token_hash), keys.LOOKUP_SK))
        except CredentialItem.DoesNotExist:
            return None

    def delete_credential(self, token_hash: str) -> None:
        CredentialItem(keys.credential_pk(token_hash), keys.LOOKUP_SK).delete()

    def list_sessions_of_user(self, user_id: str, limit: int) -> list[Credential]:
        """The user's newest `limit` sessions (one Query; expired ones included until TTL)."""
        items = Item.by_user.query(
            keys.sessions_of_user(user_id), scan_index_forward=False, limit=limit
        )
        return [_credential(item) for item in items if isinstance(item, CredentialItem)]

    def record_session_use(self, credential: Credential, used_at: datetime) -> None:
        """Marks the session used now, unless that was recorded in the last 5 minutes (then
        another request just did).  Never fails the request it is recorded for."""
        now = int(used_at.timestamp())
        try:
            CredentialItem(keys.credential_pk(credential.token_hash), keys.LOOKUP_SK).update(
                actions=[CredentialItem.last_used_at.set(now)],
                condition=Item.pk.exists()
                & (
                    CredentialItem.last_used_at.does_not_exist()
                    | (CredentialItem.last_used_at <= now - SESSION_USE_RESOLUTION_SECONDS)
                ),
            )
        except UpdateError as e:
            if e.cause_response_code != "ConditionalCheckFailedException":
                logger.warning("could not record a session's use", exc_info=True)
        except PynamoDBException:
            logger.warning("could not record a session's use", exc_info=True)

    def delete_credentials(self, token_hashes: Sequence[str]) -> None:
        """Deletes the credentials (at most 100; those already gone are no error), in one
        transaction."""
        if not token_hashes:
            return
        with transaction() as tx:
            for token_hash in token_hashes:
                tx.delete(CredentialItem(keys.credential_pk(token_hash), keys.LOOKUP_SK))

    # -- profile, password and two-factor sign-in -------------------------------------------

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
        """Sets the user's name, language or avatar, and the copy of the name on
        `memberships` (at most 99), in one transaction."""
        actions: list[Action] = []
        if name is not None:
            actions.append(UserItem.name.set(name))
        if locale is not None:
            actions.append(UserItem.locale.set(locale))
        if avatar is not None:
            actions.append(UserItem.avatar.set(avatar))
        elif remove_avatar:
            actions.append(UserItem.avatar.remove())
        if not actions:
            return
        with transaction() as tx:
            tx.update(
                UserItem(keys.user_pk(user.id), keys.USER_SK),
                actions=actions,
                condition=Item.pk.exists(),
            )
            if name is not None:
                for member in memberships:
                    tx.update(
                        MembershipItem(
                            keys.workspace_pk(member.workspace_id), keys.member_sk(member.user_id)
                        ),
                        actions=[MembershipItem.name.set(name)],
                        condition=Item.pk.exists(),
                    )

    def change_password(self, user: User, password_hash: str, signed_out: Sequence[str]) -> None:
        """Sets the new password hash, only if the password is still the one checked (a
        concurrent change wins), and deletes the sessions `signed_out` (at most 98), in one
        transaction.  Raises MemberChanged when the password changed meanwhile."""
        try:
            with transaction() as tx:
                tx.update(
                    UserItem(keys.user_pk(user.id), keys.USER_SK),
                    actions=[UserItem.password_hash.set(password_hash)],
                    condition=UserItem.password_hash == user.password_hash,
                )
                for token_hash in signed_out:
                    tx.delete(CredentialItem(keys.credential_pk(token_hash), keys.LOOKUP_SK))
        except TransactWriteError as e:
            if CONDITION_FAILED in cancellation_reasons(e):
                raise PasswordChanged() from e
            raise

    # -- two-factor secrets (sealed) -------------------------------------------------------

    def _box(self) -> TwoFactorSecretBox:
        if self.secret_box is None:
            raise TwoFactorSecretUnreadable("this store was built without a secret box")
        return self.secret_box

    def _seal(self, user_id: str, secret: str) -> str:
        try:
            return self._box().seal(user_id, secret)
        except SecretBoxError as e:
            logger.error(
                "cannot seal a two-factor secret", extra={"user_id": user_id, "reason": e.reason}
            )
            raise TwoFactorSecretUnreadable(e.reason) from e

    def _open(self, user_id: str, stored: str) -> tuple[str, bool]:
        """The secret in clear and whether the current key sealed it."""
        try:
            opened = self._box().open(user_id, stored)
        except SecretBoxError as e:
            logger.error(
                "a two-factor secret does not open",
                extra={"user_id": user_id, "reason": e.reason, "sealed_by": e.key_id},
            )
            raise TwoFactorSecretUnreadable(e.reason) from e
        return opened.secret, opened.current

    def two_factor_secret(self, user: User, *, pending: bool = False) -> str | None:
        """The user's TOTP secret (or the offered one) in clear; None when there is none.
        Raises TwoFactorSecretUnreadable when it does not open."""
        if user.two_factor is None:
            return None
        stored = user.two_factor.sealed_pending_secret if pending else user.two_factor.sealed_secret
        return self._open(user.id, stored)[0] if stored is not None else None

    def refresh_two_factor_secret(self, user: User) -> None:
        """Seals the secret again with the current key when the previous key sealed it (or
        it was stored in clear): one write, conditioned on the value read.  Never raises."""
        stored = user.two_factor.sealed_secret if user.two_factor is not None else None
        if stored is None:
            return
        try:
            secret, current = self._open(user.id, stored)
            if current:
                return
            UserItem(keys.user_pk(user.id), keys.USER_SK).update(
                actions=[UserItem.two_factor_secret.set(self._seal(user.id, secret))],
                condition=UserItem.two_factor_secret == stored,
            )
        except TwoFactorSecretUnreadable:
            pass  # logged; the next sign-in tries again
        except PynamoDBException:
            logger.warning("could not seal a two-factor secret again", exc_info=True)

    def offer_two_factor(self, user: User, secret: str) -> None:
        """Keeps `secret`, sealed, as the one to confirm (replacing an earlier offer), while
        two-factor sign-in is off.  Raises TwoFactorChanged when it was turned on meanwhile,
        TwoFactorSecretUnreadable when it cannot be sealed."""
        sealed = self._seal(user.id, secret)
        try:
            UserItem(keys.user_pk(user.id), keys.USER_SK).update(
                actions=[UserItem.two_factor_pending_secret.set(sealed)],
                condition=Item.pk.exists() & UserItem.two_factor_secret.does_not_exist(),
            )
        except UpdateError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                raise TwoFactorChanged() from e
            raise

    def enable_two_factor(
        self,
        user: User,
        secret: str,
        step: int,
        recovery_code_hashes: Sequence[str],
        at: datetime,
        memberships: Sequence[Member],
    ) -> None:
        """Turns the offered `secret` on (the code of `step` confirmed it; sealed again with
        the current key), stores the recovery codes' hashes and marks `memberships` (at most
        80), in one transaction.  Raises TwoFactorChanged when the offer changed or was
        confirmed meanwhile (since `user` was read)."""
        offered = user.two_factor.sealed_pending_secret if user.two_factor is not None else None
        if offered is None:
            raise TwoFactorChanged()
        sealed = self._seal(user.id, secret)
        try:
            with transaction() as tx:
                tx.update(
                    UserItem(keys.user_pk(user.id), keys.USER_SK),
                    actions=[
                        UserItem.two_factor_secret.set(sealed),
                        UserItem.two_factor_pending_secret.remove(),
                        UserItem.two_factor_enabled_at.set(at),
                        UserItem.two_factor_last_step.set(step),
                    ],
                    condition=(UserItem.two_factor_pending_secret == offered)
                    & UserItem.two_factor_secret.does_not_exist(),
                )
                for code_hash in recovery_code_hashes:
                    tx.save(
                        RecoveryCodeItem(
                            keys.user_pk(user.id),
                            keys.recovery_code_sk(code_hash),
                            user_id=user.id,
                            created_at=at,
                        )
                    )
                self._mark_memberships(tx, memberships, True)
        except TransactWriteError as e:
            if reasons_say_condition(e, 0):
                raise TwoFactorChanged() from e
            raise

    def disable_two_factor(self, user: User, memberships: Sequence[Member]) -> None:
        """Turns two-factor sign-in off, deletes the unused recovery codes and unmarks
        `memberships` (at most 80), in one transaction."""
        codes = self._recovery_code_hashes(user.id)
        with transaction() as tx:
            tx.update(
                UserItem(keys.user_pk(user.id), keys.USER_SK),
                actions=[
                    UserItem.two_factor_secret.remove(),
                    UserItem.two_factor_pending_secret.remove(),
                    UserItem.two_factor_enabled_at.remove(),
                    UserItem.two_factor_last_step.remove(),
                ],
                condition=Item.pk.exists(),
            )
            for code_hash in codes:
                tx.delete(RecoveryCodeItem(keys.user_pk(user.id), keys.recovery_code_sk(code_hash)))
            self._mark_memberships(tx, memberships, False)

    def replace_recovery_codes(
        self, user: User, recovery_code_hashes: Sequence[str], at: datetime
    ) -> None:
        """Deletes the unused recovery codes and stores new ones, in one transaction."""
        old = self._recovery_code_hashes(user.id)
        with transaction() as tx:
            tx.condition_check(
                UserItem,
                keys.user_pk(user.id),
                keys.USER_SK,
                condition=UserItem.two_factor_secret.exists(),
            )
            for code_hash in old:
                if code_hash not in recovery_code_hashes:
                    tx.delete(
                        RecoveryCodeItem(keys.user_pk(user.id), keys.recovery_code_sk(code_hash))
                    )
            for code_hash in recovery_code_hashes:
                tx.save(
                    RecoveryCodeItem(
                        keys.user_pk(user.id),
                        keys.recovery_code_sk(code_hash),
                        user_id=user.id,
                        created_at=at,
                    )
                )

    def count_recovery_codes(self, user_id: str) -> int:
        return len(self._recovery_code_hashes(user_id))

    def has_recovery_code(self, user_id: str, code_hash: str) -> bool:
        try:
            RecoveryCodeItem.get(keys.user_pk(user_id), keys.recovery_code_sk(code_hash))
        except RecoveryCodeItem.DoesNotExist:
            return False
        return True

    def _recovery_code_hashes(self, user_id: str) -> list[str]:
        items = RecoveryCodeItem.query(
            keys.user_pk(user_id),
            RecoveryCodeItem.sk.startswith(keys.RECOVERY_CODE_PREFIX),
            limit=20,
        )
        return [item.sk.removeprefix(keys.RECOVERY_CODE_PREFIX) for item in items]

    @staticmethod
    def _mark_memberships(tx: Any, memberships: Sequence[Member], on: bool) -> None:
        for member in memberships:
            tx.update(
                MembershipItem(
                    keys.workspace_pk(member.workspace_id), keys.member_sk(member.user_id)
                ),
                actions=[MembershipItem.two_factor.set(on)],
                condition=Item.pk.exists(),
            )

    def accept_two_factor_step(self, user_id: str, step: int) -> None:
        """Records that a code of `step` was used; raises CodeUsed when a code of this step
        or a later one already was (a replayed code)."""
        try:
            UserItem(keys.user_pk(user_id), keys.USER_SK).update(
                actions=[UserItem.two_factor_last_step.set(step)],
                condition=UserItem.two_factor_secret.exists()
                & (
                    UserItem.two_factor_last_step.does_not_exist()
                    | (UserItem.two_factor_last_step < step)
                ),
            )
        except UpdateError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                raise CodeUsed() from e
            raise

    def put_login_challenge(self, challenge: LoginChallenge) -> None:
        LoginChallengeItem(
            keys.login_challenge_pk(challenge.token_hash),
            keys.LOOKUP_SK,
            user_id=challenge.user_id,
            workspace_id=challenge.workspace_id,
            created_at=challenge.created_at,
            expires_at=challenge.expires_at,
            client=challenge.client,
        ).save(condition=Item.pk.does_not_exist())

    def get_login_challenge(self, token_hash: str) -> LoginChallenge | None:
        try:
            item = LoginChallengeItem.get(keys.login_challenge_pk(token_hash), keys.LOOKUP_SK)
        except LoginChallengeItem.DoesNotExist:
            return None
        return LoginChallenge(
            token_hash=token_hash,
            user_id=item.user_id,
            workspace_id=item.workspace_id,
            created_at=item.created_at,
            expires_at=int(item.expires_at or 0),
            client=item.client,
        )

    def complete_login_challenge(
        self,
        challenge: LoginChallenge,
        session: Credential,
        *,
        step: int | None = None,
        recovery_code_hash: str | None = None,
    ) -> None:
        """Uses the challenge (once), the code (a TOTP step newer than any used, or an
        unused recovery code, deleted) and opens the session, in one transaction.  Raises
        ChallengeUsed, or CodeUsed when the code was used already."""
        user = UserItem(keys.user_pk(challenge.user_id), keys.USER_SK)
        try:
            with transaction() as tx:
                tx.delete(
                    LoginChallengeItem(
                        keys.login_challenge_pk(challenge.token_hash), keys.LOOKUP_SK
                    ),
                    condition=Item.pk.exists(),
                )
                if step is not None:
                    tx.update(
                        user,
                        actions=[UserItem.two_factor_last_step.set(step)],
                        condition=UserItem.two_factor_secret.exists()
                        & (
                            UserItem.two_factor_last_step.does_not_exist()
                            | (UserItem.two_factor_last_step < step)
                        ),
                    )
                else:
                    tx.delete(
                        RecoveryCodeItem(
                            keys.user_pk(challenge.user_id),
                            keys.recovery_code_sk(recovery_code_hash or ""),
                        ),
                        condition=Item.pk.exists(),
                    )
                tx.save(_credential_item(session), condition=Item.pk.does_not_exist())
        except TransactWriteError as e:
            if reasons_say_condition(e, 0):
                raise ChallengeUsed() from e
            if reasons_say_condition(e, 1):
                raise CodeUsed() from e
            raise

    # -- e-mailed links ---------------------------------------------------------------------

    def put_email_link(self, link: EmailLink) -> None:
        _email_link_item(link).save(condition=Item.pk.does_not_exist())

    def get_email_link(self, token_hash: str) -> EmailLink | None:
        try:
            return _email_link(EmailLinkItem.get(keys.email_link_pk(token_hash), keys.LOOKUP_SK))
        except EmailLinkItem.DoesNotExist:
            return None

    def confirm_email(self, link: EmailLink, at: datetime) -> None:
        """Uses the link (once: a second use raises LinkUsed) and marks the address, and the
        workspace its owner created, confirmed.  One transaction."""
        try:
            with transaction() as tx:
                tx.delete(
                    EmailLinkItem(keys.email_link_pk(link.token_hash), keys.LOOKUP_SK),
                    condition=Item.pk.exists(),
                )
                tx.update(
                    UserItem(keys.user_pk(link.user_id), keys.USER_SK),
                    actions=[UserItem.email_confirmed_at.set(at)],
                    condition=Item.pk.exists(),
                )
                if link.workspace_id:
                    tx.update(
                        WorkspaceItem(keys.workspace_pk(link.workspace_id), keys.WORKSPACE_SK),
                        actions=[WorkspaceItem.email_confirmed_at.set(at)],
                        condition=Item.pk.exists(),
                    )
        except TransactWriteError as e:
            if CONDITION_FAILED in cancellation_reasons(e):
                raise LinkUsed() from e
            raise

    def reset_password(
        self, link: EmailLink, password_hash: str, at: datetime, signed_out: Sequence[str]
    ) -> None:
        """Uses the link (once), sets the new password hash (the address is proven too) and
        deletes the sessions `signed_out` (token hashes).  One transaction."""
        try:
            with transaction() as tx:
                tx.delete(
                    EmailLinkItem(keys.email_link_pk(link.token_hash), keys.LOOKUP_SK),
                    condition=Item.pk.exists(),
                )
                tx.update(
                    UserItem(keys.user_pk(link.user_id), keys.USER_SK),
                    actions=[
                        UserItem.password_hash.set(password_hash),
                        UserItem.email_confirmed_at.set(at),
                    ],
                    condition=Item.pk.exists(),
                )
                for token_hash in signed_out:
                    tx.delete(CredentialItem(keys.credential_pk(token_hash), keys.LOOKUP_SK))
        except TransactWriteError as e:
            if CONDITION_FAILED in cancellation_reasons(e):
                raise LinkUsed() from e
            raise

    # -- API keys ---------------------------------------------------------------------------

    def create_api_key(self, api_key: ApiKey, credential: Credential) -> None:
        with transaction() as tx:
            tx.save(_api_key_item(api_key), condition=Item.pk.does_not_exist())
            tx.save(_credential_item(credential), condition=Item.pk.does_not_exist())

    def list_api_keys(self, workspace_id: str) -> list[ApiKey]:
        return [
            _api_key(item)
            for item in ApiKeyItem.query(
                keys.workspace_pk(workspace_id),
                ApiKeyItem.sk.startswith(keys.API_KEY_PREFIX),
                limit=200,
            )
        ]

    def get_api_key(self, workspace_id: str, api_key_id: str) -> ApiKey | None:
        try:
            return _api_key(
                ApiKeyItem.get(keys.workspace_pk(workspace_id), keys.api_key_sk(api_key_id))
            )
        except ApiKeyItem.DoesNotExist:
            return None

    def delete_api_key(self, api_key: ApiKey) -> None:
        with transaction() as tx:
            tx.delete(
                ApiKeyItem(keys.workspace_pk(api_key.workspace_id), keys.api_key_sk(api_key.id))
            )
            tx.delete(CredentialItem(keys.credential_pk(api_key.token_hash), keys.LOOKUP_SK))

    def list_member_api_keys(self, workspace_id: str, user_id: str) -> list[ApiKey]:
        items = Item.by_user.query(keys.api_keys_of_member(workspace_id, user_id), limit=200)
        return [_api_key(item) for item in items if isinstance(item, ApiKeyItem)]

    def transfer_api_key(self, api_key: ApiKey, member_id: str) -> ApiKey:
        held_by = api_key.member_id
        try:
            with transaction() as tx:
                tx.update(
                    ApiKeyItem(
                        keys.workspace_pk(api_key.workspace_id), keys.api_key_sk(api_key.id)
                    ),
                    actions=[
                        ApiKeyItem.member_id.set(member_id),
                        ApiKeyItem.gsi1pk.set(
                            keys.api_keys_of_member(api_key.workspace_id, member_id)
                        ),
                        ApiKeyItem.gsi1sk.set(keys.api_key_sk(api_key.id)),
                    ],
                    condition=ApiKeyItem.member_id == held_by
                    if held_by
                    else ApiKeyItem.member_id.does_not_exist(),
                )
                tx.update(
                    CredentialItem(keys.credential_pk(api_key.token_hash), keys.LOOKUP_SK),
                    actions=[CredentialItem.member_id.set(member_id)],
                    condition=Item.pk.exists(),
                )
        except TransactWriteError as e:
            if CONDITION_FAILED in cancellation_reasons(e):
                raise ApiKeyChanged() from e
            raise
        return replace(api_key, member_id=member_id)

    def record_api_key_use(self, credential: Credential, used_at: datetime) -> None:
        """Marks the key used now, unless a use was recorded in the last minute (then another
        request just did).  Never fails the request it is recorded for."""
        now = int(used_at.timestamp())
        cred = CredentialItem(keys.credential_pk(credential.token_hash), keys.LOOKUP_SK)
        try:
            with transaction() as tx:
                tx.update(
                    cred,
                    actions=[CredentialItem.last_used_at.set(now)],
                    condition=Item.pk.exists()
                    & (
                        CredentialItem.last_used_at.does_not_exist()
                        | (CredentialItem.last_used_at <= now - API_KEY_USE_RESOLUTION_SECONDS)
                    ),
                )
                tx.update(
                    ApiKeyItem(
                        keys.workspace_pk(credential.workspace_id),
                        keys.api_key_sk(credential.api_key_id or ""),
                    ),
                    actions=[ApiKeyItem.last_used_at.set(used_at)],
                    condition=Item.pk.exists(),
                )
        except TransactWriteError as e:
            if CONDITION_FAILED not in cancellation_reasons(e):
                logger.warning("could not record an API key's use", exc_info=True)
        except PynamoDBException:
            logger.warning("could not record an API key's use", exc_info=True)

    # -- invitations ------------------------------------------------------------------------

    def create_invitation(self, invitation: Invitation) -> None:
        with transaction() as tx:
            tx.save(
                InvitationItem(
                    keys.workspace_pk(invitation.workspace_id),
                    keys.invitation_sk(invitation.id),
                    invitation_id=invitation.id,
                    workspace_id=invitation.workspace_id,
                    email=invitation.email,
                    role=invitation.role.value,
                    status=invitation.status.value,
                    token_hash=invitation.token_hash,
                    invited_by=invitation.invited_by,
                    created_at=invitation.created_at,
                    valid_until=invitation.valid_until,
                    locale=invitation.locale,
                    gsi1pk=(
                        keys.pending_invitations(invitation.workspace_id)
                        if invitation.status is InvitationStatus.PENDING
                        else None
                    ),
                    gsi1sk=keys.invitation_sk(invitation.id),
                    # kept a while after expiry so the list can say "expired"
                    expires_at=invitation.valid_until + 30 * 24 * 3600,
                ),
                condition=Item.pk.does_not_exist(),
            )
            tx.save(
                InvitationLookup(
                    keys.invitation_token_pk(invitation.token_hash),
                    keys.LOOKUP_SK,
                    workspace_id=invitation.workspace_id,
                    invitation_id=invitation.id,
                    expires_at=invitation.valid_until + 30 * 24 * 3600,
                ),
                condition=Item.pk.does_not_exist(),
            )

    def get_invitation(self, workspace_id: str, invitation_id: str) -> Invitation | None:
        try:
            return _invitation(
                InvitationItem.get(
                    keys.workspace_pk(workspace_id), keys.invitation_sk(invitation_id)
                )
            )
        except InvitationItem.DoesNotExist:
            return None

    def find_invitation_by_token(self, token_hash: str) -> Invitation | None:
        try:
            lookup = InvitationLookup.get(keys.invitation_token_pk(token_hash), keys.LOOKUP_SK)
        except InvitationLookup.DoesNotExist:
            return None
        return self.get_invitation(lookup.workspace_id, lookup.invitation_id)

    def list_pending_invitations(self, workspace_id: str, limit: int) -> list[Invitation]:
        """One Query of the sparse pending view, newest first, however many invitations
        were accepted or revoked before."""
        result = Item.by_user.query(
            keys.pending_invitations(workspace_id),
            scan_index_forward=False,
            limit=limit,
            page_size=limit,
        )
        found, _ = one_slice(result, Item, limit)
        return [_invitation(item) for item in found if isinstance(item, InvitationItem)]

    def revoke_invitation(self, invitation: Invitation) -> None:
        item = InvitationItem(
            keys.workspace_pk(invitation.workspace_id), keys.invitation_sk(invitation.id)
        )
        try:
            item.update(
                actions=[
                    InvitationItem.status.set(InvitationStatus.REVOKED.value),
                    InvitationItem.gsi1pk.remove(),
                    InvitationItem.gsi1sk.remove(),
                ],
                condition=InvitationItem.status == InvitationStatus.PENDING.value,
            )
        except UpdateError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                raise InvitationNoLongerPending() from e
            raise

    def accept_invitation(
        self,
        invitation: Invitation,
        user: User,
        user_is_new: bool,
        membership: Member,
        session: Credential,
        now_epoch: int,
    ) -> None:
        try:
            self._accept_invitation(invitation, user, user_is_new, membership, session, now_epoch)
        except _SeatNotCounted:
            # A workspace older than billing: its trial opens (members counted), then the
            # join is tried again under the same seat condition.
            _open_billing_account(invitation.workspace_id, datetime.fromtimestamp(now_epoch, UTC))
            try:
                self._accept_invitation(
                    invitation, user, user_is_new, membership, session, now_epoch
                )
            except _SeatNotCounted as e:
                raise SeatsExhausted(0, 0, "", "") from e

    def _accept_invitation(
        self,
        invitation: Invitation,
        user: User,
        user_is_new: bool,
        membership: Member,
        session: Credential,
        now_epoch: int,
    ) -> None:
        item = InvitationItem(
            keys.workspace_pk(invitation.workspace_id), keys.invitation_sk(invitation.id)
        )

        def write() -> None:
            with transaction() as tx:
                tx.update(
                    item,
                    actions=[
                        InvitationItem.status.set(InvitationStatus.ACCEPTED.value),
                        InvitationItem.accepted_by.set(user.id),
                        InvitationItem.gsi1pk.remove(),
                        InvitationItem.gsi1sk.remove(),
                    ],
                    condition=(InvitationItem.status == InvitationStatus.PENDING.value)
                    & (InvitationItem.valid_until > now_epoch),
                )
                tx.save(_membership_item(membership), condition=Item.pk.does_not_exist())
                account, taken, seat_free = _seat_taken(invitation.workspace_id, now_epoch)
                tx.update(account, actions=[taken], condition=seat_free)
                if membership.role is Role.OWNER:
                    tx.update(
                        WorkspaceItem(
                            keys.workspace_pk(invitation.workspace_id), keys.WORKSPACE_SK
                        ),
                        actions=[WorkspaceItem.owner_count.add(1)],
                        condition=Item.pk.exists(),
                    )
                if user_is_new:
                    tx.save(_user_item(user), condition=Item.pk.does_not_exist())
                    tx.save(
                        EmailLookup(keys.email_pk(user.email), keys.LOOKUP_SK, user_id=user.id),
                        condition=Item.pk.does_not_exist(),
                    )
                tx.save(_credential_item(session), condition=Item.pk.does_not_exist())

        try:
            _retrying_conflicts(write)
        except TransactWriteError as e:
            reasons = cancellation_reasons(e)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise InvitationNoLongerPending() from e
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise AlreadyMember() from e
            if reasons_say_condition(e, 2):
                seats = _billing_item(invitation.workspace_id)
                if seats is None:
                    raise _SeatNotCounted() from e
                raise _seats_exhausted(seats, now_epoch) from e
            if "ConditionalCheckFailed" in reasons:
                raise EmailTaken() from e
            raise

    # -- password-attempt throttling ---------------------------------------------------------

    def reserve_password_attempt(
        self, subject: str, now_epoch: int, window_seconds: int, max_attempts: int
    ) -> int:
        """Counts one more attempt in the subject's window with a conditional update, so that
        concurrent requests can never take more than `max_attempts`; returns its number."""
        item = LoginThrottleItem(keys.login_throttle_pk(subject), keys.LOOKUP_SK)
        # Each lost round means another request opened or cleared the window in between: a
        # burst of concurrent checks (people accepting one invitation at once) can do that a
        # few times over before it settles, and giving up says "too many attempts" wrongly.
        for _ in range(THROTTLE_RACE_ROUNDS):
            try:
                # Same window, attempts left: take one, atomically.
                item.update(
                    actions=[LoginThrottleItem.failures.add(1)],
                    condition=(LoginThrottleItem.window_started > now_epoch - window_seconds)
                    & (LoginThrottleItem.failures < max_attempts),
                )
                return int(item.failures)
            except UpdateError as e:
                if e.cause_response_code != "ConditionalCheckFailedException":
                    raise
            try:
                # No window yet, or it ran out: open a new one with this attempt.
                LoginThrottleItem(
                    keys.login_throttle_pk(subject),
                    keys.LOOKUP_SK,
                    failures=1,
                    window_started=now_epoch,
                    expires_at=now_epoch + window_seconds,
                ).save(
                    condition=Item.pk.does_not_exist()
                    | (LoginThrottleItem.window_started <= now_epoch - window_seconds)
                )
                return 1
            except PutError as e:
                if e.cause_response_code != "ConditionalCheckFailedException":
                    raise
            current = self._throttle(subject)
            if current is not None:
                attempts, started = current
                if started > now_epoch - window_seconds and attempts >= max_attempts:
                    raise AttemptsUsedUp(started + window_seconds - now_epoch)
            # Another request opened or cleared the window meanwhile: try again.
        raise AttemptsUsedUp(1)

    def _throttle(self, subject: str) -> tuple[int, int] | None:
        try:
            item = LoginThrottleItem.get(
                keys.login_throttle_pk(subject), keys.LOOKUP_SK, consistent_read=True
            )
        except LoginThrottleItem.DoesNotExist:
            return None
        return int(item.failures), int(item.window_started)

    def clear_password_attempts(self, subject: str, attempt: int) -> None:
        item = LoginThrottleItem(keys.login_throttle_pk(subject), keys.LOOKUP_SK)
        try:
            # Only when no attempt was taken after this one: those still in flight stay counted.
            item.delete(condition=LoginThrottleItem.failures == attempt)
        except DeleteError as e:
            if e.cause_response_code != "ConditionalCheckFailedException":
                raise
