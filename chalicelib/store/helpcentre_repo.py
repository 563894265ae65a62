"""Help-centre settings, verified custom domains and article feedback (single table).

| access pattern                         | served by                                              |
|----------------------------------------|--------------------------------------------------------|
| help-centre settings of a workspace    | GetItem PK=WS#<ws>, SK=SETTINGS#HELPCENTRE             |
| workspace of a verified custom domain  | GetItem PK=HCDOMAIN#<host>, SK=LOOKUP                  |
| feedback counts of an article          | GetItem PK=WS#<ws>#KB#<article>, SK=FEEDBACK           |
| one vote per visitor, article and day  | PutItem PK=WS#<ws>, SK=VOTE#<hash> (if absent)         |
"""

from __future__ import annotations

import hashlib

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib.kb.helpcentre import HelpCentreSettings
from chalicelib.kb.site_settings import DomainTakenError
from chalicelib.store import keys
from chalicelib.store.models import Item
from chalicelib.store.transactions import cancellation_reasons, transaction

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


class ArticleFeedbackItem(Item, discriminator="article_feedback"):
    helpful = NumberAttribute(default=0)
    not_helpful = NumberAttribute(default=0)


class FeedbackVoteItem(Item, discriminator="feedback_vote"):
    """A visitor's vote on an article (only its hash is kept), for rate limiting."""


SETTINGS_SK = "SETTINGS#HELPCENTRE"


def _domain_pk(host: str) -> str:
    return f"HCDOMAIN#{host}"


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
        self, workspace_id: str, before: HelpCentreSettings | None, settings: HelpCentreSettings
    ) -> None:
        """Saves; a domain that stops being verified (changed or removed) leaves the lookup."""
        with transaction() as tx:
            tx.save(self._item(workspace_id, settings))
            old = before.custom_domain if before and before.domain_verified else None
            if old and (old != settings.custom_domain or not settings.domain_verified):
                tx.delete(
                    HelpCentreDomainLookup(_domain_pk(old), keys.LOOKUP_SK),
                    condition=HelpCentreDomainLookup.workspace_id == workspace_id,
                )

    def mark_verified(self, workspace_id: str, settings: HelpCentreSettings) -> None:
        """Claims the domain for the workspace (unique) and marks it verified, atomically."""
        assert settings.custom_domain
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
        except TransactWriteError as e:
            if cancellation_reasons(e)[:1] == ["ConditionalCheckFailed"]:
                raise DomainTakenError() from e
            raise  # throttling or an outage is not "taken"

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

    def feedback(self, workspace_id: str, article_id: str) -> tuple[int, int]:
        try:
            item = ArticleFeedbackItem.get(_feedback_pk(workspace_id, article_id), "FEEDBACK")
        except ArticleFeedbackItem.DoesNotExist:
            return 0, 0
        return int(item.helpful), int(item.not_helpful)
