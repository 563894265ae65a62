"""Webhook tokens already accepted, so a captured or repeated delivery acts only once."""

from __future__ import annotations

from pynamodb.exceptions import PutError

from chalicelib.clock import Clock
from chalicelib.store import keys
from chalicelib.store.models import Item, WebhookTokenItem


class DynamoReplayGuard:
    def __init__(self, provider: str, clock: Clock) -> None:
        self._provider = provider
        self._clock = clock

    def first_use(self, token: str, expires_at: int) -> bool:
        """One conditional PutItem: True if the token was not recorded (or had expired)."""
        item = WebhookTokenItem(
            keys.webhook_token_pk(self._provider, token), keys.LOOKUP_SK, expires_at=expires_at
        )
        try:
            item.save(
                condition=Item.pk.does_not_exist()
                | (Item.expires_at < int(self._clock.now().timestamp()))
            )
        except PutError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, token: str) -> None:
        """Forgets a claim whose delivery could not be kept, so Mailgun's retry is accepted."""
        WebhookTokenItem(keys.webhook_token_pk(self._provider, token), keys.LOOKUP_SK).delete()
