"""The phases of a workspace's deletion that close its ways in and end its accounts outside
(`PurgePhase`, chalicelib/privacy/workspace_deletion.py):

- `billing`: the paid subscription ends now through billing's own cancellation (Stripe or
  PayPal), as an owner's "cancel now" would: the unused whole days are refunded, the owners
  told (chalicelib/billing/cancellation.py).  A processor that does not answer fails the step
  (the next run retries); one that refuses is logged and the deletion goes on.
- `doors`: the global lookups that lead to it: its slug claim (`SLUG#`), the chat widget's
  key (`CHATKEY#`), its forwarding addresses (`MAILADDR#`), its help-centre domain
  (`HCDOMAIN#`) and custom hostname (deleted at Cloudflare first), the processor's customer
  and subscription lookups (`BILLINGREF#`), its API keys' credentials (`CRED#`) and its
  invitations' tokens (`INVITETOKEN#`).  Each lookup is deleted only while it still names
  this workspace.
- `members`: the memberships (first read for the people they name), with their entries in
  the owners-and-admins view; the users' accounts stay.
- `calendars`: members' calendar connections: push channels stopped at the provider (best
  effort; the person's grant stays theirs: it may serve another workspace), then the
  connections, sealed tokens, channels and their lookups, and the rest of `WS#<ws>#CAL`
  (busy caches)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.errors import Conflict
from chalicelib.observability import logger
from chalicelib.privacy.workspace_deletion import PurgeStep, Target
from chalicelib.store import keys
from chalicelib.store.chat_repo import SETTINGS_SK as CHAT_SETTINGS_SK
from chalicelib.store.chat_repo import _key_pk as chat_key_pk
from chalicelib.store.helpcentre_repo import CUSTOM_HOSTNAME_SK, _domain_pk
from chalicelib.store.helpcentre_repo import SETTINGS_SK as HELPCENTRE_SETTINGS_SK
from chalicelib.store.table_partitions import (
    PAGE,
    PartitionDrains,
    TablePartitions,
    cursor_at,
    split_cursor,
    user_of_actor,
)

if TYPE_CHECKING:
    from chalicelib.billing.deps import BillingDeps
    from chalicelib.booking.calendars import CalendarDeps
    from chalicelib.kb.custom_hostnames import HostnameDeps

CANCEL_REASON = "The workspace was deleted by its owner."
CONNECTIONS_PAGE = 25


class HostnameNotReleased(Exception):
    """Cloudflare did not delete the custom hostname yet: the step is retried next run."""


class BillingPurge:
    name = "billing"

    def __init__(self, billing_deps: Callable[[], BillingDeps]) -> None:
        self._billing_deps = billing_deps

    def step(self, target: Target, cursor: str | None) -> PurgeStep:
        from chalicelib.billing.cancellation import cancel
        from chalicelib.billing.ports import ProcessorRefused
        from chalicelib.billing.standing import SUBSCRIBED

        deps = self._billing_deps()
        account = deps.store.get(target.workspace_id)
        if account is None or account.processor is None or account.status not in SUBSCRIBED:
            return PurgeStep()
        try:
            cancel(deps, target.workspace_id, now=True, reason=CANCEL_REASON)
        except Conflict as e:  # no subscription after all, or its processor is not offered
            logger.warning(
                "a deleted workspace's subscription was not ended",
                extra={"workspace_id": target.workspace_id, "code": e.code},
            )
            return PurgeStep()
        except ProcessorRefused:
            logger.error(
                "the processor refused to end a deleted workspace's subscription",
                extra={"workspace_id": target.workspace_id},
            )
            return PurgeStep({"subscriptions_refused": 1})
        return PurgeStep({"subscriptions": 1})


class HostnameRelease:
    """Deletes a help-centre domain's custom hostname at Cloudflare, then its record, as
    removing the domain from the settings does (chalicelib/kb/custom_hostnames.py)."""

    def __init__(
        self,
        table: TablePartitions,
        hostname_deps: Callable[[], HostnameDeps],
        now: Callable[[], datetime],
    ) -> None:
        self._table = table
        self._hostname_deps = hostname_deps
        self._now = now

    def release(self, workspace_id: str, domain: str) -> int:
        from chalicelib.kb import custom_hostnames

        deps = self._hostname_deps()
        record = deps.store.get_hostname(workspace_id, domain)
        if record is None:
            return 0
        if deps.provider is None:  # this deployment provisions nothing at Cloudflare
            return self._table.delete_lookup(_domain_pk(domain), CUSTOM_HOSTNAME_SK, workspace_id)
        now = self._now()
        write = custom_hostnames.on_domain_left(deps, workspace_id, domain, now)
        if write is not None and write.before is not None:
            deps.store.save_hostname(write.before, write.after)
            record = write.after
        if not custom_hostnames.release(deps, record, now):
            raise HostnameNotReleased(domain)
        return 1


class DoorsPurge:
    """Cursor: `lookups|`, `keys|<after>`, `invitations|<after>`."""

    name = "doors"

    def __init__(self, table: TablePartitions, hostnames: HostnameRelease) -> None:
        self._table = table
        self._hostnames = hostnames

    def _lookups(self, ws: str) -> int:
        table, pk = self._table, keys.workspace_pk(ws)
        doomed: list[tuple[str, str]] = []
        workspace = table.get(pk, keys.WORKSPACE_SK, ("slug",))
        if workspace and workspace.get("slug"):
            doomed.append((keys.slug_pk(str(workspace["slug"])), keys.LOOKUP_SK))
        chat = table.get(pk, CHAT_SETTINGS_SK, ("public_key",))
        if chat and chat.get("public_key"):
            doomed.append((chat_key_pk(str(chat["public_key"])), keys.LOOKUP_SK))
        mailbox = table.get(pk, keys.MAILBOX_SETTINGS_SK, ("forwarding_addresses",))
        for address in (mailbox or {}).get("forwarding_addresses") or []:
            doomed.append((keys.mail_address_pk(str(address)), keys.LOOKUP_SK))
        billing = table.get(
            pk,
            keys.BILLING_SK,
            ("stripe_customer_id", "stripe_subscription_id", "paypal_subscription_id"),
        )
        for attribute, processor in (
            ("stripe_customer_id", "stripe"),
            ("stripe_subscription_id", "stripe"),
            ("paypal_subscription_id", "paypal"),
        ):
            if billing and billing.get(attribute):
                doomed.append(
                    (keys.billing_customer_pk(processor, str(billing[attribute])), keys.LOOKUP_SK)
                )
        removed = 0
        helpcentre = table.get(pk, HELPCENTRE_SETTINGS_SK, ("custom_domain",))
        domain = str((helpcentre or {}).get("custom_domain") or "")
        if domain:
            removed += self._hostnames.release(ws, domain)
            doomed.append((_domain_pk(domain), keys.LOOKUP_SK))
        return removed + sum(table.delete_lookup(p, s, ws) for p, s in doomed)

    def step(self, target: Target, cursor: str | None) -> PurgeStep:
        ws = target.workspace_id
        stage, after = split_cursor(cursor, "lookups")
        if stage == "lookups":
            return PurgeStep({"lookups": self._lookups(ws)}, cursor=cursor_at("keys", None))
        if stage == "keys":
            rows, more = self._table.page(
                keys.workspace_pk(ws),
                prefix=keys.API_KEY_PREFIX,
                after=after,
                limit=PAGE,
                attributes=("token_hash", "member_id", "created_by"),
            )
            removed = sum(
                self._table.delete_lookup(
                    keys.credential_pk(str(r["token_hash"])), keys.LOOKUP_SK, ws
                )
                for r in rows
                if r.get("token_hash")
            )
            people = [
                user
                for r in rows
                for user in (r.get("member_id"), user_of_actor(r.get("created_by")))
                if user
            ]
            return PurgeStep(
                {"api_key_credentials": removed},
                cursor=cursor_at("keys", more) if more else cursor_at("invitations", None),
                people=tuple(str(p) for p in people),
            )
        rows, more = self._table.page(
            keys.workspace_pk(ws),
            prefix=keys.INVITATION_PREFIX,
            after=after,
            limit=PAGE,
            attributes=("token_hash", "accepted_by"),
        )
        removed = sum(
            self._table.delete_lookup(
                keys.invitation_token_pk(str(r["token_hash"])), keys.LOOKUP_SK, ws
            )
            for r in rows
            if r.get("token_hash")
        )
        return PurgeStep(
            {"invitation_tokens": removed},
            cursor=cursor_at("invitations", more) if more else None,
            people=tuple(str(r["accepted_by"]) for r in rows if r.get("accepted_by")),
        )


class MembersPurge:
    """Cursor: `collect|<after>` (the people, saved first), then `remove|`."""

    name = "members"

    def __init__(self, table: TablePartitions) -> None:
        self._table = table

    def step(self, target: Target, cursor: str | None) -> PurgeStep:
        pk = keys.workspace_pk(target.workspace_id)
        stage, after = split_cursor(cursor, "collect")
        if stage == "collect":
            rows, more = self._table.page(
                pk, prefix=keys.MEMBER_PREFIX, after=after, limit=PAGE, attributes=("user_id",)
            )
            people = tuple(str(r["user_id"]) for r in rows if r.get("user_id"))
            return PurgeStep(
                people=people,
                cursor=cursor_at("collect", more) if more else cursor_at("remove", None),
            )
        removed, more_left = self._table.delete_partition(pk, PAGE, keys.MEMBER_PREFIX)
        return PurgeStep(
            {"memberships": removed}, cursor=cursor_at("remove", None) if more_left else None
        )


class CalendarsPurge(PartitionDrains):
    """Cursor: `connections|`, then `rest|`."""

    name = "calendars"

    def __init__(self, table: TablePartitions, calendar_deps: Callable[[], CalendarDeps]) -> None:
        super().__init__(table)
        self._calendar_deps = calendar_deps

    def _disconnect(self, deps: CalendarDeps, ws: str, connection_id: str) -> None:
        """As a member's own disconnect (chalicelib/booking/calendars.py `disconnect`), but
        for the grant: the person did not ask to leave, and their account's grant to the
        product (Google's is one per person and app) may also serve their calendar in
        another workspace, so it is left to them; this workspace's sealed tokens go."""
        from chalicelib.booking.calendars import access_token
        from chalicelib.booking.ports import CalendarProviderFailed, GrantRevoked

        stored = deps.store.get_connection(ws, connection_id)
        if stored is None:
            return
        channels = deps.store.channels_of(ws, stored.id)
        provider = deps.providers.get(stored.connection.provider.value)
        if provider is not None and channels:
            try:
                access = access_token(deps, stored)
                for record in channels:
                    provider.stop(access, record.channel)
            except (CalendarProviderFailed, GrantRevoked) as e:
                logger.info("calendar push channel not stopped", extra={"error": repr(e)})
        deps.store.delete_connection(stored, channels)
        deps.tokens.forget(stored.id)

    def step(self, target: Target, cursor: str | None) -> PurgeStep:
        ws = target.workspace_id
        stage, _ = split_cursor(cursor, "connections")
        pk = f"WS#{ws}#CAL"
        if stage == "connections":
            rows, _ = self.table.page(pk, prefix="CONNID#", limit=CONNECTIONS_PAGE)
            if not rows:
                return PurgeStep(cursor=cursor_at("rest", None))
            deps = self._calendar_deps()
            people: list[str] = []
            for row in rows:
                connection_id = str(row["SK"]).removeprefix("CONNID#")
                stored = deps.store.get_connection(ws, connection_id)
                if stored is not None:
                    people.append(stored.connection.user_id)
                    self._disconnect(deps, ws, connection_id)
                else:
                    self.table.delete([(str(row["PK"]), str(row["SK"]))])
            return PurgeStep(
                {"calendar_connections": len(rows)},
                cursor=cursor_at("connections", None),
                people=tuple(people),
            )
        removed, more_left = self.drain(pk)
        return PurgeStep(
            {"calendar_items": removed}, cursor=cursor_at("rest", None) if more_left else None
        )
