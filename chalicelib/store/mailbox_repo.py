"""pynamodb implementation of `MailboxStore`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, NoReturn

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError

from chalicelib.ids import new_id
from chalicelib.store import keys
from chalicelib.store.acknowledgements_repo import DynamoAcknowledgementLedger
from chalicelib.store.mail_reads import DynamoMailReads, settings_of
from chalicelib.store.models import (
    ForwardingClaimItem,
    HeldMailItem,
    Item,
    MailAddressLookup,
    MailboxSettingsItem,
    SenderRateItem,
    SlugLookup,
    UnroutedMailItem,
)
from chalicelib.store.transactions import cancellation_reasons, transaction
from chalicelib.tickets.mailbox import (
    AddressTaken,
    ClaimGone,
    ForwardingClaim,
    HeldMail,
    MailboxSettings,
    StaleMailboxSettings,
)

CONFIRMED = "confirmed"
RATE_WINDOW_SECONDS = 3600
UNROUTED_KEPT_SECONDS = 30 * 24 * 3600
HELD_KEPT_SECONDS = 30 * 24 * 3600


def _held(item: HeldMailItem) -> HeldMail:
    return HeldMail(
        id=item.held_id,
        workspace_id=item.workspace_id,
        sender=item.sender,
        subject=item.subject,
        raw_key=item.raw_key,
        reason=item.reason,
        held_at=item.held_at,
        content_type=item.content_type,
    )


def _claim(workspace_id: str, item: ForwardingClaimItem) -> ForwardingClaim:
    return ForwardingClaim(
        workspace_id=workspace_id,
        address=item.address,
        nonce=item.nonce,
        requested_at=item.requested_at,
        sent_at=item.sent_at,
        expires_at=datetime.fromtimestamp(int(item.expires_at or 0), UTC),
        wrong_codes=int(item.wrong_codes or 0),
    )


def _unchanged_since(settings: MailboxSettings) -> Any:
    """The settings item is as it was read (never written: no revision yet)."""
    if settings.revision:
        return MailboxSettingsItem.revision == settings.revision
    return MailboxSettingsItem.revision.does_not_exist() | (MailboxSettingsItem.revision == 0)


def _settings_refused(
    error: TransactWriteError, lookup_refused: type[Exception] | None
) -> NoReturn:
    """Why a (lookup, settings) transaction was refused."""
    reasons = cancellation_reasons(error)
    if lookup_refused and reasons[:1] == ["ConditionalCheckFailed"]:
        raise lookup_refused() from error
    if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
        raise StaleMailboxSettings() from error
    raise error


class DynamoMailboxStore(DynamoAcknowledgementLedger, DynamoMailReads):
    def get_settings(self, workspace_id: str) -> MailboxSettings:
        try:
            item = MailboxSettingsItem.get(
                keys.workspace_pk(workspace_id), keys.MAILBOX_SETTINGS_SK
            )
        except MailboxSettingsItem.DoesNotExist:
            return MailboxSettings()
        return settings_of(item)

    def _settings_item(self, workspace_id: str, settings: MailboxSettings) -> MailboxSettingsItem:
        return MailboxSettingsItem(
            keys.workspace_pk(workspace_id),
            keys.MAILBOX_SETTINGS_SK,
            ack_enabled=settings.acknowledgement.enabled,
            ack_subject=settings.acknowledgement.subject,
            ack_body=settings.acknowledgement.body,
            sender_rate_per_hour=settings.sender_rate_per_hour,
            forwarding_addresses=list(settings.forwarding_addresses),
            revision=settings.revision + 1,
        )

    def save_settings(self, workspace_id: str, settings: MailboxSettings) -> None:
        try:
            self._settings_item(workspace_id, settings).save(condition=_unchanged_since(settings))
        except PutError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                raise StaleMailboxSettings() from e
            raise

    def confirm_claim(
        self, workspace_id: str, settings: MailboxSettings, claim: ForwardingClaim
    ) -> None:
        """The lookup, the settings' list and the end of the claim change together."""
        address = claim.address
        if address in settings.forwarding_addresses:
            self.drop_claim(workspace_id, address)
            return
        updated = replace(settings, forwarding_addresses=[*settings.forwarding_addresses, address])
        try:
            with transaction() as tx:
                tx.save(
                    MailAddressLookup(
                        keys.mail_address_pk(address),
                        keys.LOOKUP_SK,
                        workspace_id=workspace_id,
                        status=CONFIRMED,
                    ),
                    condition=Item.pk.does_not_exist(),
                )
                tx.save(
                    self._settings_item(workspace_id, updated),
                    condition=_unchanged_since(settings),
                )
                tx.delete(
                    ForwardingClaimItem(
                        keys.workspace_pk(workspace_id), keys.forwarding_claim_sk(address)
                    ),
                    condition=ForwardingClaimItem.nonce == claim.nonce,
                )
        except TransactWriteError as e:
            if cancellation_reasons(e)[2:3] == ["ConditionalCheckFailed"]:
                raise ClaimGone() from e
            _settings_refused(e, AddressTaken)

    def save_claim(self, claim: ForwardingClaim) -> None:
        ForwardingClaimItem(
            keys.workspace_pk(claim.workspace_id),
            keys.forwarding_claim_sk(claim.address),
            address=claim.address,
            nonce=claim.nonce,
            requested_at=claim.requested_at,
            sent_at=claim.sent_at,
            wrong_codes=claim.wrong_codes,
            expires_at=int(claim.expires_at.timestamp()),
        ).save()

    def get_claim(self, workspace_id: str, address: str) -> ForwardingClaim | None:
        try:
            item = ForwardingClaimItem.get(
                keys.workspace_pk(workspace_id), keys.forwarding_claim_sk(address)
            )
        except ForwardingClaimItem.DoesNotExist:
            return None
        return _claim(workspace_id, item)

    def list_claims(self, workspace_id: str, limit: int) -> list[ForwardingClaim]:
        return [
            _claim(workspace_id, item)
            for item in ForwardingClaimItem.query(
                keys.workspace_pk(workspace_id),
                ForwardingClaimItem.sk.startswith(keys.FORWARDING_CLAIM_PREFIX),
                limit=limit,
            )
        ]

    def drop_claim(self, workspace_id: str, address: str) -> None:
        ForwardingClaimItem(
            keys.workspace_pk(workspace_id), keys.forwarding_claim_sk(address)
        ).delete()

    def note_wrong_code(self, workspace_id: str, address: str) -> int:
        item = ForwardingClaimItem(
            keys.workspace_pk(workspace_id), keys.forwarding_claim_sk(address)
        )
        try:
            item.update(
                actions=[ForwardingClaimItem.wrong_codes.add(1)],
                condition=ForwardingClaimItem.pk.exists(),
            )
        except UpdateError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                raise ClaimGone() from e
            raise
        return int(item.wrong_codes)

    def release_address(self, workspace_id: str, settings: MailboxSettings, address: str) -> None:
        remaining = [a for a in settings.forwarding_addresses if a != address]
        try:
            with transaction() as tx:
                tx.delete(
                    MailAddressLookup(keys.mail_address_pk(address), keys.LOOKUP_SK),
                    condition=MailAddressLookup.workspace_id == workspace_id,
                )
                tx.save(
                    self._settings_item(
                        workspace_id, replace(settings, forwarding_addresses=remaining)
                    ),
                    condition=_unchanged_since(settings),
                )
        except TransactWriteError as e:
            _settings_refused(e, None)

    def workspace_of_slug(self, slug: str) -> str | None:
        try:
            return str(SlugLookup.get(keys.slug_pk(slug), keys.LOOKUP_SK).workspace_id)
        except SlugLookup.DoesNotExist:
            return None

    def workspace_of_address(self, address: str) -> str | None:
        """Only a confirmed address routes mail (items without a status predate pending
        claims, which were never written here: they are confirmed)."""
        try:
            lookup = MailAddressLookup.get(keys.mail_address_pk(address), keys.LOOKUP_SK)
        except MailAddressLookup.DoesNotExist:
            return None
        if lookup.status not in (None, CONFIRMED):
            return None
        return str(lookup.workspace_id)

    def count_sender(self, workspace_id: str, sender: str, hour: int) -> int:
        item = SenderRateItem(keys.workspace_pk(workspace_id), keys.sender_rate_sk(sender, hour))
        item.update(
            actions=[
                SenderRateItem.mails.add(1),
                SenderRateItem.kind.set(SenderRateItem),
                SenderRateItem.expires_at.set((hour + 2) * RATE_WINDOW_SECONDS),
            ]
        )
        return int(item.mails)

    def hold(self, held: HeldMail) -> None:
        try:
            HeldMailItem(
                keys.workspace_pk(held.workspace_id),
                keys.held_sk(held.id),
                held_id=held.id,
                workspace_id=held.workspace_id,
                sender=held.sender,
                subject=held.subject[:250],
                raw_key=held.raw_key,
                reason=held.reason,
                held_at=held.held_at,
                content_type=held.content_type,
                expires_at=int(held.held_at.timestamp()) + HELD_KEPT_SECONDS,
            ).save(condition=Item.pk.does_not_exist())
        except PutError as e:
            if e.cause_response_code != "ConditionalCheckFailedException":
                raise

    def list_held(self, workspace_id: str, limit: int) -> list[HeldMail]:
        return [
            _held(item)
            for item in HeldMailItem.query(
                keys.workspace_pk(workspace_id),
                HeldMailItem.sk.startswith(keys.HELD_PREFIX),
                scan_index_forward=False,
                limit=limit,
            )
        ]

    def get_held(self, workspace_id: str, held_id: str) -> HeldMail | None:
        try:
            return _held(HeldMailItem.get(keys.workspace_pk(workspace_id), keys.held_sk(held_id)))
        except HeldMailItem.DoesNotExist:
            return None

    def drop_held(self, workspace_id: str, held_id: str) -> None:
        HeldMailItem(keys.workspace_pk(workspace_id), keys.held_sk(held_id)).delete()

    def record_unrouted(self, recipient: str, sender: str, raw_key: str, at: datetime) -> None:
        UnroutedMailItem(
            keys.unrouted_pk(at.strftime("%Y-%m-%d")),
            new_id(),
            recipient=recipient,
            sender=sender or "",
            raw_key=raw_key,
            at=at,
            expires_at=int(at.timestamp()) + UNROUTED_KEPT_SECONDS,
        ).save()
