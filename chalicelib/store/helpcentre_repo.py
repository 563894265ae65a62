"""Help-centre settings, verified custom domains and article feedback (single table).

| access pattern                         | served by                                              |
|----------------------------------------|--------------------------------------------------------|
| help-centre settings of a workspace    | GetItem PK=WS#<ws>, SK=SETTINGS#HELPCENTRE             |
| workspace of a verified custom domain  | GetItem PK=HCDOMAIN#<host>, SK=LOOKUP                  |
| Cloudflare custom hostname of a domain | GetItem PK=HCDOMAIN#<host>, SK=CUSTOMHOSTNAME          |
| custom hostnames due for work (job)    | Query GSI1 GSI1PK=HCHOSTNAMES#DUE, GSI1SK <= <now>     |
| feedback counts of an article          | GetItem PK=WS#<ws>#KB#<article>, SK=FEEDBACK           |
| one vote per visitor, article and day  | PutItem PK=WS#<ws>, SK=VOTE#<hash> (if absent)         |
| contact messages of a visitor an hour  | UpdateItem PK=WS#<ws>, SK=CONTACT#<hash> (count < max) |
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError

from chalicelib.kb.custom_hostnames import (
    CustomHostname,
    DnsRecord,
    HostnameState,
    HostnameWrite,
    RecordPurpose,
    StaleHostname,
)
from chalicelib.kb.helpcentre_settings import DomainTakenError
from chalicelib.kb.helpcentre_site import HelpCentreSettings
from chalicelib.store import keys
from chalicelib.store.models import Item
from chalicelib.store.transactions import CONDITION_FAILED, cancellation_reasons, transaction

VOTE_WINDOW_SECONDS = 24 * 3600


class HelpCentreSettingsItem(Item, discriminator="helpcentre_settings"):
    name = UnicodeAttribute()
    brand_color = UnicodeAttribute()
    logo_url = UnicodeAttribute(null=True)
    default_locale = UnicodeAttribute(default="en")
    custom_domain = UnicodeAttribute(null=True)
    domain_verified = BooleanAttribute(default=False)


class HelpCentreDomainLookup(Item, discriminator="helpcentre_domain"):
    workspace_id = UnicodeAttribute()


class CustomHostnameItem(Item, discriminator="custom_hostname"):
    """A domain's custom hostname at Cloudflare, owned by one workspace; in the due list
    (GSI1, sparse) while it has work to do."""

    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    workspace_id = UnicodeAttribute()
    domain = UnicodeAttribute()
    state = UnicodeAttribute()
    hostname_id = UnicodeAttribute(null=True)
    hostname_status = UnicodeAttribute(null=True)
    certificate_status = UnicodeAttribute(null=True)
    records = UnicodeAttribute(default="[]")  # JSON: the DNS records Cloudflare asks for
    problem = UnicodeAttribute(null=True)
    failures = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    checked_at = UTCDateTimeAttribute(null=True)
    next_check_at = UTCDateTimeAttribute(null=True)
    revision = NumberAttribute(default=0)


class ArticleFeedbackItem(Item, discriminator="article_feedback"):
    helpful = NumberAttribute(default=0)
    not_helpful = NumberAttribute(default=0)


class FeedbackVoteItem(Item, discriminator="feedback_vote"):
    """A visitor's vote on an article (only its hash is kept), for rate limiting."""


class ContactAttemptItem(Item, discriminator="contact_attempt"):
    """Contact-form messages of one visitor (only a hash is kept) in one hour."""

    messages = NumberAttribute(default=0)


SETTINGS_SK = "SETTINGS#HELPCENTRE"
CUSTOM_HOSTNAME_SK = "CUSTOMHOSTNAME"
# One partition of GSI1 lists every custom hostname with work due, by due time: the job reads
# its head; a hostname leaves the list when it is active, refused or deleted.
HOSTNAMES_DUE = "HCHOSTNAMES#DUE"


def _domain_pk(host: str) -> str:
    return f"HCDOMAIN#{host}"


def _sortable_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _hostname_item(record: CustomHostname) -> CustomHostnameItem:
    due = record.next_check_at
    return CustomHostnameItem(
        _domain_pk(record.domain),
        CUSTOM_HOSTNAME_SK,
        gsi1pk=HOSTNAMES_DUE if due else None,
        gsi1sk=f"{_sortable_time(due)}#{record.domain}" if due else None,
        workspace_id=record.workspace_id,
        domain=record.domain,
        state=record.state.value,
        hostname_id=record.hostname_id,
        hostname_status=record.hostname_status,
        certificate_status=record.certificate_status,
        records=json.dumps(
            [
                {"purpose": r.purpose.value, "name": r.name, "type": r.type, "value": r.value}
                for r in record.records
            ]
        ),
        problem=record.problem,
        failures=record.failures,
        created_at=record.created_at,
        checked_at=record.checked_at,
        next_check_at=due,
        revision=record.revision,
    )


def _hostname(item: CustomHostnameItem) -> CustomHostname:
    records: list[dict[str, Any]] = json.loads(item.records or "[]")
    return CustomHostname(
        workspace_id=item.workspace_id,
        domain=item.domain,
        state=HostnameState(item.state),
        created_at=item.created_at,
        hostname_id=item.hostname_id,
        hostname_status=item.hostname_status,
        certificate_status=item.certificate_status,
        records=tuple(
            DnsRecord(RecordPurpose(r["purpose"]), r["name"], r["type"], r["value"])
            for r in records
        ),
        problem=item.problem,
        failures=int(item.failures or 0),
        checked_at=item.checked_at,
        next_check_at=item.next_check_at,
        revision=int(item.revision or 0),
    )


def _hostname_condition(write: HostnameWrite) -> Any:
    if write.before is None:
        return CustomHostnameItem.pk.does_not_exist()
    return (CustomHostnameItem.revision == write.before.revision) & (
        CustomHostnameItem.workspace_id == write.before.workspace_id
    )


def _feedback_pk(workspace_id: str, article_id: str) -> str:
    return f"WS#{workspace_id}#KB#{article_id}"


class DynamoHelpCentreStore:
    def get_settings(self, workspace_id: str) -> HelpCentreSettings | None:
        try:
            item = HelpCentreSettingsItem.get(keys.workspace_pk(workspace_id), SETTINGS_SK)
        except HelpCentreSettingsItem.DoesNotExist:
            return None
        return HelpCentreSettings(
            name=item.name,
            brand_color=item.brand_color,
            logo_url=item.logo_url,
            default_locale=item.default_locale,
            custom_domain=item.custom_domain,
            domain_verified=bool(item.domain_verified),
        )

    def _item(self, workspace_id: str, settings: HelpCentreSettings) -> HelpCentreSettingsItem:
        return HelpCentreSettingsItem(
            keys.workspace_pk(workspace_id),
            SETTINGS_SK,
            name=settings.name,
            brand_color=settings.brand_color,
            logo_url=settings.logo_url,
            default_locale=settings.default_locale,
            custom_domain=settings.custom_domain,
            domain_verified=settings.domain_verified,
        )

    def save_settings(
        self,
        workspace_id: str,
        before: HelpCentreSettings | None,
        settings: HelpCentreSettings,
        hostname: HostnameWrite | None = None,
    ) -> None:
        """Saves; a domain that stops being verified (changed or removed) leaves the lookup,
        and `hostname` (its custom hostname, now to be deleted) is written in the same
        transaction.  Raises StaleHostname when that record changed meanwhile."""
        try:
            with transaction() as tx:
                tx.save(self._item(workspace_id, settings))
                old = before.custom_domain if before and before.domain_verified else None
                if old and (old != settings.custom_domain or not settings.domain_verified):
                    tx.delete(
                        HelpCentreDomainLookup(_domain_pk(old), keys.LOOKUP_SK),
                        condition=HelpCentreDomainLookup.workspace_id == workspace_id,
                    )
                if hostname is not None:
                    tx.save(_hostname_item(hostname.after), condition=_hostname_condition(hostname))
        except TransactWriteError as e:
            if hostname is not None and cancellation_reasons(e)[-1:] == [CONDITION_FAILED]:
                raise StaleHostname() from e
            raise

    def mark_verified(
        self,
        workspace_id: str,
        settings: HelpCentreSettings,
        hostname: HostnameWrite | None = None,
    ) -> None:
        """Claims the domain for the workspace (unique) and marks it verified, atomically,
        with `hostname` (the request for its custom hostname).  A custom hostname of the
        domain still held by another workspace (being deleted) keeps the domain taken."""
        if not settings.custom_domain:
            raise ValueError("only a help centre with a custom domain can be verified")
        try:
            with transaction() as tx:
                tx.save(
                    HelpCentreDomainLookup(
                        _domain_pk(settings.custom_domain),
                        keys.LOOKUP_SK,
                        workspace_id=workspace_id,
                    ),
                    condition=HelpCentreDomainLookup.pk.does_not_exist()
                    | (HelpCentreDomainLookup.workspace_id == workspace_id),
                )
                tx.save(self._item(workspace_id, settings))
                if hostname is not None:
                    tx.save(_hostname_item(hostname.after), condition=_hostname_condition(hostname))
        except TransactWriteError as e:
            reasons = cancellation_reasons(e)
            if reasons[:1] == [CONDITION_FAILED]:
                raise DomainTakenError() from e
            if hostname is not None and reasons[2:3] == [CONDITION_FAILED]:
                owner = self._hostname_owner(settings.custom_domain)
                if owner not in (None, workspace_id):
                    raise DomainTakenError() from e
                raise StaleHostname() from e
            raise  # throttling or an outage is not "taken"

    # -- custom hostnames ------------------------------------------------------------------

    def _hostname_owner(self, domain: str) -> str | None:
        try:
            item = CustomHostnameItem.get(
                _domain_pk(domain), CUSTOM_HOSTNAME_SK, consistent_read=True
            )
        except CustomHostnameItem.DoesNotExist:
            return None
        return str(item.workspace_id)

    def get_hostname(self, workspace_id: str, domain: str) -> CustomHostname | None:
        try:
            item = CustomHostnameItem.get(
                _domain_pk(domain), CUSTOM_HOSTNAME_SK, consistent_read=True
            )
        except CustomHostnameItem.DoesNotExist:
            return None
        # Another workspace's hostname (one releasing the domain) is not this one's to see.
        return _hostname(item) if item.workspace_id == workspace_id else None

    def save_hostname(self, before: CustomHostname, after: CustomHostname) -> None:
        try:
            _hostname_item(after).save(condition=_hostname_condition(HostnameWrite(before, after)))
        except PutError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                raise StaleHostname() from e
            raise

    def delete_hostname(self, before: CustomHostname) -> None:
        try:
            CustomHostnameItem(_domain_pk(before.domain), CUSTOM_HOSTNAME_SK).delete(
                condition=(CustomHostnameItem.revision == before.revision)
                & (CustomHostnameItem.workspace_id == before.workspace_id)
            )
        except DeleteError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                raise StaleHostname() from e
            raise

    def due_hostnames(self, now: datetime, limit: int) -> list[CustomHostname]:
        # "$" sorts right after "#": every key due at or before `now`, none after.
        result = Item.by_user.query(
            HOSTNAMES_DUE, CustomHostnameItem.gsi1sk < _sortable_time(now) + "$", limit=limit
        )
        return [_hostname(item) for item in result if isinstance(item, CustomHostnameItem)]

    def workspace_of_domain(self, host: str) -> str | None:
        try:
            return str(HelpCentreDomainLookup.get(_domain_pk(host), keys.LOOKUP_SK).workspace_id)
        except HelpCentreDomainLookup.DoesNotExist:
            return None

    def record_vote(
        self, workspace_id: str, article_id: str, visitor: str, helpful: bool, now: int
    ) -> bool:
        """Counts the vote unless this visitor voted on this article in the last day."""
        vote = hashlib.sha256(f"{visitor}:{article_id}:{now // VOTE_WINDOW_SECONDS}".encode())
        try:
            FeedbackVoteItem(
                keys.workspace_pk(workspace_id),
                "VOTE#" + vote.hexdigest()[:32],
                expires_at=now + VOTE_WINDOW_SECONDS,
            ).save(condition=FeedbackVoteItem.pk.does_not_exist())
        except PutError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        counter = ArticleFeedbackItem(_feedback_pk(workspace_id, article_id), "FEEDBACK")
        field = ArticleFeedbackItem.helpful if helpful else ArticleFeedbackItem.not_helpful
        counter.update(actions=[field.add(1), ArticleFeedbackItem.kind.set(ArticleFeedbackItem)])
        return True

    def allow_contact(self, workspace_id: str, visitor: str, now: int, limit: int) -> bool:
        """Counts one contact message of `visitor` this hour unless `limit` were sent."""
        from chalicelib.kb.helpcentre_contact import CONTACT_WINDOW_SECONDS

        hour = now // CONTACT_WINDOW_SECONDS
        visitor_hash = hashlib.sha256(f"{visitor}:{hour}".encode()).hexdigest()[:32]
        attempt = ContactAttemptItem(keys.workspace_pk(workspace_id), "CONTACT#" + visitor_hash)
        try:
            attempt.update(
                actions=[
                    ContactAttemptItem.messages.add(1),
                    ContactAttemptItem.kind.set(ContactAttemptItem),
                    ContactAttemptItem.expires_at.set(now + CONTACT_WINDOW_SECONDS),
                ],
                condition=ContactAttemptItem.messages.does_not_exist()
                | (ContactAttemptItem.messages < limit),
            )
        except UpdateError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def feedback(self, workspace_id: str, article_id: str) -> tuple[int, int]:
        try:
            item = ArticleFeedbackItem.get(_feedback_pk(workspace_id, article_id), "FEEDBACK")
        except ArticleFeedbackItem.DoesNotExist:
            return 0, 0
        return int(item.helpful), int(item.not_helpful)
