"""The single DynamoDB table and the item types stored in it.

Access patterns (each served by one GetItem/Query/TransactWrite; no Scan anywhere):

| access pattern                              | served by                                         |
|---------------------------------------------|---------------------------------------------------|
| workspace by id                             | GetItem PK=WS#<ws>, SK=WORKSPACE                  |
| workspace id by slug (signup uniqueness)    | GetItem PK=SLUG#<slug>, SK=LOOKUP                 |
| user by id                                  | GetItem PK=USER#<user>, SK=PROFILE                |
| user id by e-mail (login, uniqueness)       | GetItem PK=EMAIL#<email>, SK=LOOKUP               |
| membership of a user in a workspace         | GetItem PK=WS#<ws>, SK=MEMBER#<user>              |
| members of a workspace (paged)              | Query PK=WS#<ws>, SK begins_with MEMBER#          |
| workspaces of a user (paged)                | Query GSI1 GSI1PK=USER#<user>                     |
| credential (session / API key) by token     | GetItem PK=CRED#<sha256(token)>, SK=LOOKUP        |
| sessions of a user, newest first (reset,    | Query GSI1 USER#<user>#SESSIONS (90 newest)       |
|   list, sign out one or all others)         |                                                   |
| unused recovery codes of a user             | Query PK=USER#<user>, SK begins_with RECOVERY#    |
| a recovery code's use (single use)          | DeleteItem PK=USER#<user>, SK=RECOVERY#<sha256>   |
| login waiting for its second factor         | GetItem PK=LOGINCHALLENGE#<sha256(token)>, LOOKUP |
| member + workspace on every session request | BatchGetItem WS#<ws>/MEMBER#<user> + WORKSPACE    |
| e-mailed link (confirm, reset) by token     | GetItem PK=LINK#<sha256(token)>, SK=LOOKUP        |
| API keys of a workspace                     | Query PK=WS#<ws>, SK begins_with APIKEY#          |
| API keys of a member (revoke on removal)    | Query GSI1 WS#<ws>#APIKEYS#<user>                 |
| invitation by token                         | GetItem PK=INVITETOKEN#<sha256(token)>, SK=LOOKUP |
| invitations of a workspace                  | Query PK=WS#<ws>, SK begins_with INVITE#          |
| pending invitations of a workspace          | Query GSI1 WS#<ws>#INVITES#PENDING (sparse)       |
| password attempts for an e-mail (throttle)  | GetItem PK=LOGINFAIL#<sha256(email)>, SK=LOOKUP   |
| outbound mail by id (mail-out worker)       | GetItem PK=WS#<ws>, SK=MAIL#<mail>                |
| ticket by id                                | GetItem PK=WS#<ws>#T#<ticket>, SK=TICKET          |
| ticket id by number                         | GetItem PK=WS#<ws>, SK=TICKETNO#<number>          |
| next ticket number                          | UpdateItem ADD PK=WS#<ws>, SK=COUNTER#TICKET      |
| messages of a ticket                        | Query PK=WS#<ws>#T#<ticket>, SK begins_with MSG#  |
| activity of a ticket                        | Query PK=WS#<ws>#T#<ticket>, SK begins_with ACT#  |
| ticket by RFC Message-ID (threading, dedup) | GetItem PK=WS#<ws>, SK=MSGID#<sha256(id)>         |
| tickets, newest activity first              | Query GSI1 WS#<ws>#TICKETS                        |
| tickets by status                           | Query GSI2 WS#<ws>#TICKETS#STATUS#<status>        |
| tickets by tag (tag entries)                | Query GSI2 WS#<ws>#TICKETS#TAG#<tag>, BatchGet    |
| tickets by assignee, or unassigned          | Query GSI3 WS#<ws>#TICKETS#ASSIGNEE#<user|none>   |
| tickets by assignee (or none) and status    | Query GSI5 …#ASSIGNEE#<user|none>#STATUS#<status> |
| tickets of a requester                      | Query GSI4 WS#<ws>#TICKETS#REQUESTER#<contact>    |
| who has a ticket open                       | Query PK=WS#<ws>#T#<ticket>, begins_with VIEWER#  |
| an agent's upload (attach, download)        | GetItem / BatchGet PK=WS#<ws>, SK=UPLOAD#<id>     |
| mailbox settings                            | GetItem PK=WS#<ws>, SK=SETTINGS#MAILBOX           |
| workspace of a forwarding address           | GetItem PK=MAILADDR#<address>, SK=LOOKUP          |
| pending forwarding-address claims           | Query PK=WS#<ws>, SK begins_with FWDCLAIM#        |
| a sender's mail this hour (rate limit)      | UpdateItem ADD PK=WS#<ws>, SK=RATE#<hash>#<hour>  |
| held mail                                   | Query PK=WS#<ws>, SK begins_with HELD# (newest)   |
| mail for no workspace (operators)           | PutItem PK=UNROUTED#<date>, SK=<id> (30-day TTL)  |
| tickets containing a term, newest first     | Query PK=WS#<ws>#TERM#<term>, SK < cursor         |
| inbox counts                                | Query PK=WS#<ws>, SK begins_with COUNT#           |
| contact by id                               | GetItem PK=WS#<ws>, SK=CONTACT#<id>               |
| contact by e-mail                           | GetItem PK=WS#<ws>, SK=CONTACTEMAIL#<email>       |
| contacts, newest first                      | Query PK=WS#<ws>, SK begins_with CONTACT#         |
| contacts by e-mail / name-word prefix       | Query PK=WS#<ws>#CONTACTIDX, SK begins_with <q>   |
| canned response by id                       | GetItem PK=WS#<ws>, SK=CANNED#<id>                |
| canned response name (uniqueness)           | PK=WS#<ws>, SK=CANNEDNAME#<name, case-folded>     |
| canned responses by name prefix             | Query GSI1 WS#<ws>#CANNED, begins_with <prefix>   |
| article by id (current)                     | GetItem PK=WS#<ws>#KB#<article>, SK=ARTICLE       |
| versions of an article, newest first        | Query PK=WS#<ws>#KB#<article>, begins_with VER#   |
| article by slug (current or old: redirect)  | GetItem PK=WS#<ws>, SK=KBSLUG#<locale>#<slug>     |
| translations of an article                  | Query PK=WS#<ws>, begins_with KBTRANS#<group>#    |
| articles by status, locale, last update     | Query GSI1 WS#<ws>#KB, begins_with <status>#<loc> |
| articles of a category                      | Query GSI2 WS#<ws>#KB#CAT#<category>              |
| knowledge-base categories                   | Query PK=WS#<ws>, SK begins_with KBCAT#           |
| tickets active after a cursor (changes feed)| Query GSI1 WS#<ws>#TICKETS, SK > cursor, forward  |
| a member's notifications, newest first      | Query PK=WS#<ws>#USER#<user>, begins_with NOTIF#  |
| a member's unread notifications (count)     | Query PK=WS#<ws>#USER#<user>, SK > UNREAD#<read>  |
| a member's notification revision (ETag)     | GetItem PK=WS#<ws>#USER#<user>, SK=STATE#NOTIF…   |
| members' notification preferences           | BatchGet PK=WS#<ws>#USER#<user>, SK=PREFS#NOTIF…  |
| notifications waiting for the digest        | Query PK=WS#<ws>#USER#<user>, begins_with MAILDUE#|
| members whose e-mail digest is due (job)    | Query GSI1 NOTIFDIGESTS#DUE#<shard>, SK <= now    |
| billing account of a workspace              | GetItem PK=WS#<ws>, SK=billing (consistent)       |
| workspace of a Stripe customer / PayPal sub | GetItem PK=BILLINGREF#<processor>#<id>, LOOKUP    |
| invoices of a workspace, newest first       | Query GSI1 WS#<ws>#INVOICES, backwards            |
| attempts / refunds of an invoice            | Query PK=WS#<ws>, begins_with billing#attempt#<in>|
| accounts whose trial or grace ends (job)    | Query GSI1 BILLINGDUE#<shard>, SK < before        |

Two-factor sign-in required by a workspace: authentication reads the membership and the
workspace in one BatchGetItem (one call, as the membership's GetItem was). The membership
carries a copy of the user's "two-factor on" (written with the user on enrolment and on
disabling, for their first 80 memberships); a member the copy says has not enrolled costs
one more GetItem of the user, to be sure, only while their workspace requires it.
A session records its last use at most once per 5 minutes (a conditional update).

Ticket views (GSI1-5) sort by `<last activity>#<ticket id>`; queries read them backwards.

`expires_at` is the table's TTL attribute (epoch seconds); readers still check it, because
DynamoDB deletes expired items only eventually.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.settings import get_settings
from chalicelib.store.aws_outage import CONNECT_TIMEOUT_SECONDS, MAX_ATTEMPTS


class ByUserIndex(GlobalSecondaryIndex["Item"]):
    """GSI1: items that belong to a user across workspaces (memberships)."""

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")


def _view_index(number: int) -> type[GlobalSecondaryIndex[Item]]:
    """GSI<number>: a ticket view, keyed by `GSI<n>PK` and sorted by last activity."""

    class ViewIndex(GlobalSecondaryIndex["Item"]):
        class Meta:
            index_name = f"GSI{number}"
            projection = AllProjection()

        pk = UnicodeAttribute(hash_key=True, attr_name=f"GSI{number}PK")
        sk = UnicodeAttribute(range_key=True, attr_name=f"GSI{number}SK")

    ViewIndex.__name__ = f"ViewIndex{number}"
    return ViewIndex


class Item(Model):
    """Base of every item in the table; `kind` says which subclass it is."""

    class Meta:
        table_name = get_settings().table_name
        region = get_settings().region
        # Give up within seconds when DynamoDB is unreachable or hangs (see aws_outage).
        connect_timeout_seconds = CONNECT_TIMEOUT_SECONDS
        read_timeout_seconds = get_settings().aws_read_timeout_seconds
        max_retry_attempts = MAX_ATTEMPTS - 1

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    kind = DiscriminatorAttribute(attr_name="kind")
    expires_at = NumberAttribute(null=True)
    by_user = ByUserIndex()
    by_status_or_tag = _view_index(2)()
    by_assignee = _view_index(3)()
    by_requester = _view_index(4)()
    by_assignee_and_status = _view_index(5)()

    @classmethod
    def _get_connection(cls) -> TableConnection:
        """One connection, so one botocore session and client, for every item type of the
        table. pynamodb builds one per model class, each parsing the DynamoDB service model
        again: a fresh container's first request paid for that once per item type it read."""
        if cls is Item:
            return super()._get_connection()
        return Item._get_connection()


class WorkspaceItem(Item, discriminator="workspace"):
    workspace_id = UnicodeAttribute()
    slug = UnicodeAttribute()
    name = UnicodeAttribute()
    timezone = UnicodeAttribute(default="UTC")
    locale = UnicodeAttribute(default="en")
    formality = UnicodeAttribute(null=True)  # absent: formal
    email_confirmed_at = UTCDateTimeAttribute(null=True)  # absent: mail to customers waits
    two_factor_required = BooleanAttribute(null=True)  # absent: not required
    owner_count = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class SlugLookup(Item, discriminator="slug"):
    workspace_id = UnicodeAttribute()


class UserItem(Item, discriminator="user"):
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    email_confirmed_at = UTCDateTimeAttribute(null=True)
    locale = UnicodeAttribute(null=True)  # absent: not chosen
    avatar = UnicodeAttribute(null=True)  # the avatar's file name
    # TOTP: the confirmed secret, the one offered at enrolment (both sealed with the
    # deployment's key, `store.secret_box`: never in clear), and the newest step a code was
    # accepted for (a code is never accepted twice).
    two_factor_secret = UnicodeAttribute(null=True)
    two_factor_pending_secret = UnicodeAttribute(null=True)
    two_factor_enabled_at = UTCDateTimeAttribute(null=True)
    two_factor_last_step = NumberAttribute(null=True)


class EmailLookup(Item, discriminator="email"):
    user_id = UnicodeAttribute()


class MembershipItem(Item, discriminator="membership"):
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    workspace_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    role = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    joined_at = UTCDateTimeAttribute()
    two_factor = BooleanAttribute(null=True)  # a copy of the user's; absent: off
    # Owners and admins only: in the view of every workspace's owners and admins (GSI2
    # WSADMINS, `<since>#<ws>#<user>`), which sub-processor change notices are sent to.
    gsi2pk = UnicodeAttribute(null=True, attr_name="GSI2PK")
    gsi2sk = UnicodeAttribute(null=True, attr_name="GSI2SK")


class CredentialItem(Item, discriminator="credential"):
    # Sessions only: in their user's session list (GSI1 USER#<user>#SESSIONS, by creation).
    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    credential_kind = UnicodeAttribute()  # "session" | "api_key"
    workspace_id = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    api_key_id = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)  # API keys carry their role; sessions use the membership
    created_at = UTCDateTimeAttribute()
    member_id = UnicodeAttribute(null=True)  # API keys: the member they belong to
    # Epoch of the last recorded use: API keys (to the minute), sessions (to 5 minutes).
    last_used_at = NumberAttribute(null=True)
    client = UnicodeAttribute(null=True)  # sessions: browser or program and address


class EmailLinkItem(Item, discriminator="email_link"):
    """A single-use e-mailed link (PK=LINK#<sha256(token)>); deleted when used, and by TTL."""

    purpose = UnicodeAttribute()
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    locale = UnicodeAttribute(default="en")
    workspace_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class RecoveryCodeItem(Item, discriminator="recovery_code"):
    """One unused two-factor recovery code of a user (PK=USER#<user>, SK=RECOVERY#<sha256>);
    deleted, conditionally, by its use."""

    user_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class LoginChallengeItem(Item, discriminator="login_challenge"):
    """A login waiting for its second factor (PK=LOGINCHALLENGE#<sha256(token)>); deleted by
    the step that opens the session, and by TTL."""

    user_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    client = UnicodeAttribute(null=True)


class ApiKeyItem(Item, discriminator="api_key"):
    """An API key; in its member's key list (GSI1 WS#<ws>#APIKEYS#<user>) when it has one."""

    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    api_key_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    prefix = UnicodeAttribute()
    token_hash = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    member_id = UnicodeAttribute(null=True)
    last_used_at = UTCDateTimeAttribute(null=True)


class InvitationItem(Item, discriminator="invitation"):
    invitation_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    email = UnicodeAttribute()
    role = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | accepted | revoked
    token_hash = UnicodeAttribute()
    invited_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    valid_until = NumberAttribute()
    accepted_by = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)  # absent on invitations written before
    # In the pending view (GSI1) while pending: accepting or revoking removes both.
    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")


class InvitationLookup(Item, discriminator="invitation_token"):
    workspace_id = UnicodeAttribute()
    invitation_id = UnicodeAttribute()


class LoginThrottleItem(Item, discriminator="login_throttle"):
    failures = NumberAttribute(default=0)
    window_started = NumberAttribute()


class OutboundMailItem(Item, discriminator="outbound_mail"):
    mail_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    purpose = UnicodeAttribute()
    to = ListAttribute(of=UnicodeAttribute)
    subject = UnicodeAttribute()
    status = UnicodeAttribute()  # queued | sent | failed
    attempts = NumberAttribute(default=0)
    provider_message_id = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class TicketCounterItem(Item, discriminator="ticket_counter"):
    last_number = NumberAttribute(default=0)


class TicketNumberLookup(Item, discriminator="ticket_number"):
    ticket_id = UnicodeAttribute()


class TicketItem(Item, discriminator="ticket"):
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    gsi2pk = UnicodeAttribute(attr_name="GSI2PK")
    gsi2sk = UnicodeAttribute(attr_name="GSI2SK")
    gsi3pk = UnicodeAttribute(attr_name="GSI3PK")
    gsi3sk = UnicodeAttribute(attr_name="GSI3SK")
    gsi4pk = UnicodeAttribute(attr_name="GSI4PK")
    gsi4sk = UnicodeAttribute(attr_name="GSI4SK")
    gsi5pk = UnicodeAttribute(attr_name="GSI5PK")
    gsi5sk = UnicodeAttribute(attr_name="GSI5SK")
    ticket_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    number = NumberAttribute()
    subject = UnicodeAttribute()
    requester_id = UnicodeAttribute()
    requester_email = UnicodeAttribute()
    requester_name = UnicodeAttribute()
    cc = ListAttribute(of=UnicodeAttribute, default=list)
    status = UnicodeAttribute()
    priority = UnicodeAttribute()
    assignee_id = UnicodeAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    channel = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    last_activity_at = UTCDateTimeAttribute()
    first_response_at = UTCDateTimeAttribute(null=True)
    solved_at = UTCDateTimeAttribute(null=True)
    last_customer_message_id = UnicodeAttribute(null=True)
    merged_into = UnicodeAttribute(null=True)
    merged_from = ListAttribute(of=NumberAttribute, null=True)  # absent: none merged in
    follow_up_of = UnicodeAttribute(null=True)
    sender_unverified = BooleanAttribute(null=True)  # absent on most tickets: verified
    unverified_reply_to = UnicodeAttribute(null=True)
    message_count = NumberAttribute(default=0)
    revision = NumberAttribute(default=0)


class TicketTagItem(Item, discriminator="ticket_tag"):
    """Puts a ticket in the tag's view (GSI2), sorted by the ticket's last activity."""

    gsi2pk = UnicodeAttribute(attr_name="GSI2PK")
    gsi2sk = UnicodeAttribute(attr_name="GSI2SK")
    ticket_id = UnicodeAttribute()


class MessageItem(Item, discriminator="message"):
    message_item_id = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    message_kind = UnicodeAttribute()
    author = UnicodeAttribute()
    from_address = UnicodeAttribute(null=True)
    to = ListAttribute(of=UnicodeAttribute, default=list)
    cc = ListAttribute(of=UnicodeAttribute, default=list)
    subject = UnicodeAttribute()
    text = UnicodeAttribute()
    html = UnicodeAttribute(null=True)
    quoted_text = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    in_reply_to = ListAttribute(of=UnicodeAttribute, default=list)
    references = ListAttribute(of=UnicodeAttribute, default=list)
    attachments = UnicodeAttribute(default="[]")  # JSON list of AttachmentRef
    delivery = UnicodeAttribute()
    delivery_detail = UnicodeAttribute(null=True)
    raw_s3_key = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    original_text = UnicodeAttribute(null=True)  # a reply sent translated: the agent's text
    original_language = UnicodeAttribute(null=True)
    sender_verified = BooleanAttribute(null=True)
    from_member = BooleanAttribute(null=True)
    mentions = ListAttribute(of=UnicodeAttribute, null=True)  # notes: member ids mentioned
    chat = UnicodeAttribute(null=True)  # JSON ChatContext (chat messages)
    citations = UnicodeAttribute(null=True)  # JSON list of Citation (the answer bot's)


class MessageIdLookup(Item, discriminator="message_id"):
    ticket_id = UnicodeAttribute()
    message_item_id = UnicodeAttribute()


class ActivityItem(Item, discriminator="activity"):
    activity_id = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    before = UnicodeAttribute(null=True)
    after = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()


class ContactItem(Item, discriminator="contact"):
    contact_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    language = UnicodeAttribute(null=True)  # also on the e-mail lookup, for mail intake


class ContactEmailLookup(Item, discriminator="contact_email"):
    contact_id = UnicodeAttribute()
    # Copied from the contact (only its language changes, on both), so one read finds the
    # whole contact; absent on lookups written before.
    name = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    # The contact's language, kept equal to the contact's (written in the same transactions).
    language = UnicodeAttribute(null=True)


class InboxCountItem(Item, discriminator="inbox_count"):
    """One inbox count (`status:<s>`, `assignee:<user>`, `unassigned`), kept by every write."""

    value = NumberAttribute(default=0)


class TicketViewerItem(Item, discriminator="ticket_viewer"):
    """Someone has the ticket open (a heartbeat refreshes it; it expires on its own)."""

    user_id = UnicodeAttribute()
    name = UnicodeAttribute()


class MailboxSettingsItem(Item, discriminator="mailbox_settings"):
    ack_enabled = BooleanAttribute(default=True)
    ack_subject = UnicodeAttribute(null=True)
    ack_body = UnicodeAttribute(null=True)
    sender_rate_per_hour = NumberAttribute(default=20)
    forwarding_addresses = ListAttribute(of=UnicodeAttribute, default=list)
    revision = NumberAttribute(null=True)  # optimistic lock (absent on old items)


class MailAddressLookup(Item, discriminator="mail_address"):
    """A forwarding address a workspace confirmed (unique across workspaces)."""

    workspace_id = UnicodeAttribute()
    status = UnicodeAttribute(null=True)  # "confirmed"; absent on items older than the status


class ForwardingClaimItem(Item, discriminator="forwarding_claim"):
    """A workspace's pending claim on a forwarding address (expires unconfirmed)."""

    address = UnicodeAttribute()
    nonce = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()
    sent_at = UTCDateTimeAttribute()
    wrong_codes = NumberAttribute(default=0)


class SenderRateItem(Item, discriminator="sender_rate"):
    mails = NumberAttribute(default=0)


class HeldMailItem(Item, discriminator="held_mail"):
    held_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    sender = UnicodeAttribute()
    subject = UnicodeAttribute()
    raw_key = UnicodeAttribute()
    reason = UnicodeAttribute()
    held_at = UTCDateTimeAttribute()
    content_type = UnicodeAttribute(null=True)


class UnroutedMailItem(Item, discriminator="unrouted_mail"):
    recipient = UnicodeAttribute()
    sender = UnicodeAttribute()
    raw_key = UnicodeAttribute()
    at = UTCDateTimeAttribute()


class SearchPostingItem(Item, discriminator="search_posting"):
    """A ticket containing a term (the inverted index; the ticket id is the sort key)."""


class WebhookTokenItem(Item, discriminator="webhook_token"):
    """A provider delivery token already accepted (replay guard); expires with its window."""


class CannedResponseItem(Item, discriminator="canned_response"):
    """A saved reply; in the workspace's canned-response view (GSI1), sorted by name."""

    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    canned_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    name = UnicodeAttribute()
    name_key = UnicodeAttribute()
    body = UnicodeAttribute()
    locale = UnicodeAttribute()
    set_status = UnicodeAttribute(null=True)
    add_tags = ListAttribute(of=UnicodeAttribute, default=list)
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    revision = NumberAttribute(default=0)


class CannedNameClaim(Item, discriminator="canned_name"):
    canned_id = UnicodeAttribute()


class ContactIndexItem(Item, discriminator="contact_index"):
    """One search term (e-mail or a name word, folded) of a contact, with what a result shows."""

    contact_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class ArticleItem(Item, discriminator="kb_article"):
    """The current version of an article; in the workspace's article view (GSI1) and, with a
    category, in that category's view (GSI2), both sorted by status, locale, last update."""

    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    gsi2pk = UnicodeAttribute(null=True, attr_name="GSI2PK")
    gsi2sk = UnicodeAttribute(null=True, attr_name="GSI2SK")
    article_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    translation_group = UnicodeAttribute()
    locale = UnicodeAttribute()
    slug = UnicodeAttribute()
    title = UnicodeAttribute()
    body = UnicodeAttribute(default="")
    html = UnicodeAttribute(default="")
    status = UnicodeAttribute()
    category_id = UnicodeAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    author = UnicodeAttribute()
    updated_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=1)
    # Every slug the article had (current and old): the claims to free when it is deleted.
    slugs = ListAttribute(of=UnicodeAttribute, default=list)


class ArticleVersionItem(Item, discriminator="kb_article_version"):
    article_id = UnicodeAttribute()
    number = NumberAttribute()
    title = UnicodeAttribute()
    body = UnicodeAttribute(default="")
    html = UnicodeAttribute(default="")
    slug = UnicodeAttribute()
    status = UnicodeAttribute()
    category_id = UnicodeAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    saved_by = UnicodeAttribute()
    saved_at = UTCDateTimeAttribute()


class ArticleSlugClaim(Item, discriminator="kb_slug"):
    """A slug (current or old) of an article in one locale; an old one is a redirect."""

    article_id = UnicodeAttribute()


class TranslationClaim(Item, discriminator="kb_translation"):
    """The article of a translation group in one locale."""

    article_id = UnicodeAttribute()


class KbCategoryItem(Item, discriminator="kb_category"):
    category_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    position = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    revision = NumberAttribute(default=0)
    # JSON {locale: {name, description, slug}}; absent when it has none.
    translations = UnicodeAttribute(null=True)


class TicketMergeItem(Item, discriminator="ticket_merge"):
    """Drives one merge (see chalicelib/tickets/merge_record.py): PK=WS#<ws>,
    SK=MERGE#<source>; `status` pending until the target has absorbed the source."""

    source_id = UnicodeAttribute()
    target_id = UnicodeAttribute()
    actor = UnicodeAttribute()
    message_count = NumberAttribute()
    status = UnicodeAttribute()
    started_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)


class IncomingMergesItem(Item, discriminator="incoming_merges"):
    """PK=WS#<ws>#T#<ticket>, SK=MERGES_IN: unfinished merges into this ticket.  A ticket
    with any cannot itself be merged away (its incoming messages would be stranded)."""

    pending = NumberAttribute(default=0)


class AttachmentUploadItem(Item, discriminator="attachment_upload"):
    """A file an agent uploads for a ticket (chalicelib/tickets/agent_attachments.py):
    PK=WS#<ws>, SK=UPLOAD#<id>.  `message_id` is set (and `expires_at` removed) by the
    transaction of the reply or note that uses it, under `message_id` absent."""

    upload_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    filename = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size = NumberAttribute()
    s3_key = UnicodeAttribute()
    uploaded_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    message_id = UnicodeAttribute(null=True)


class NotificationItem(Item, discriminator="notification"):
    """Something told to one member: PK=WS#<ws>#USER#<user>, SK=NOTIF#<event id>; expires."""

    notification_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    notification_kind = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    ticket_number = NumberAttribute()
    ticket_subject = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    actor_id = UnicodeAttribute(null=True)
    actor_name = UnicodeAttribute(null=True)
    excerpt = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)


class NotificationMailItem(NotificationItem, discriminator="notification_mail"):
    """A copy waiting for the member's e-mail digest (SK=MAILDUE#<id>); the digest that
    mails it deletes it, under `attribute_exists`, so it is mailed once."""

    in_app = BooleanAttribute(default=True)


class NotificationUnreadItem(Item, discriminator="notification_unread"):
    """The notification SK=UNREAD#<id> is unread (deleted when read); expires with it."""


class NotificationStateItem(Item, discriminator="notification_state"):
    """A member's notifications as a whole: `revision` moves with each one and each read
    (the ETag of their list); every notification up to `read_through` is read."""

    revision = NumberAttribute(default=0)
    read_through = UnicodeAttribute(null=True)


class NotificationPreferencesItem(Item, discriminator="notification_preferences"):
    channels = UnicodeAttribute()  # JSON {kind: {"in_app": bool, "email": bool}}


class NotificationDigestItem(Item, discriminator="notification_digest"):
    """A member's e-mail digest: in a due list (GSI1 NOTIFDIGESTS#DUE#<shard>, sorted by
    due time) while notifications wait; `pending` counts them; a run holds it with a lease;
    a digest recorded but not yet queued stays in `outgoing`."""

    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    workspace_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    pending = NumberAttribute(default=0)
    lease = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)
    outgoing = UnicodeAttribute(null=True)  # the OutboundMail's JSON
    outgoing_mail_id = UnicodeAttribute(null=True)


class LiveConnectionItem(Item, discriminator="live_connection"):
    """An open WebSocket connection (PK=LIVECONN#<connection id>, SK=CONNECTION): whose it
    is and which topics it hears; expires (`expires_at`, moved by pings) with them."""

    workspace_id = UnicodeAttribute()
    connection_kind = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    ticket_id = UnicodeAttribute(null=True)
    topics = ListAttribute(of=UnicodeAttribute, default=list)


class LiveSubscriptionItem(Item, discriminator="live_subscription"):
    """A connection hears a topic (PK=WS#<ws>#LIVE#<topic>, SK=CONN#<connection id>);
    expires with its connection."""

    connection_id = UnicodeAttribute()


# -- booking (chalicelib/store/booking_repo.py; the Booking section of docs/data-model.md) --


class EventTypeItem(Item, discriminator="event_type"):
    """A booking event type: PK=WS#<ws>, SK=EVTYPE#<id>; `body` is its JSON."""

    event_type_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    slug = UnicodeAttribute()
    body = UnicodeAttribute()
    version = NumberAttribute(default=0)


class EventTypeSlugClaim(Item, discriminator="event_type_slug"):
    """PK=WS#<ws>, SK=EVSLUG#<slug>: the event type that has this slug."""

    event_type_id = UnicodeAttribute()


class BookingScheduleItem(Item, discriminator="booking_schedule"):
    """A member's availability: PK=WS#<ws>, SK=SCHEDULE#<user>; `body` is its JSON."""

    user_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    body = UnicodeAttribute()


class BookingItem(Item, discriminator="booking"):
    """A booking: PK=WS#<ws>, SK=BOOKING#<id>, in the bookings view (GSI1, by start).
    `core` is the booking's JSON without what its job records outside (meeting, calendar
    events, contact, ticket), which are attributes of their own, written by `record_outside`
    under the booking's sequence."""

    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    booking_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    status = UnicodeAttribute()
    host_ids = ListAttribute(of=UnicodeAttribute, default=list)
    core = UnicodeAttribute()
    sequence = NumberAttribute(default=0)
    version = NumberAttribute(default=0)
    meeting = UnicodeAttribute(null=True)  # JSON Meeting
    calendar_events = UnicodeAttribute(null=True)  # JSON list of CalendarEventRef
    contact_id = UnicodeAttribute(null=True)
    ticket_id = UnicodeAttribute(null=True)


class HostLedgerItem(Item, discriminator="host_ledger"):
    """PK=WS#<ws>#LEDGER#<host>, SK=DAY#<UTC date>: `spans` (JSON [[start, end, booking]],
    epoch seconds) held by the host's active bookings that day; `version` moves with each
    write (every booking transaction is conditioned on it).  Expires a week after the day."""

    spans = UnicodeAttribute(default="[]")
    version = NumberAttribute(default=0)


class BookingCapItem(Item, discriminator="booking_cap"):
    """PK=WS#<ws>#BKCAPS#<event type>, SK=<local date>#D or <Monday>#W: active bookings of
    the event type that day or ISO week (its caps count them)."""

    bookings = NumberAttribute(default=0)


class RoundRobinItem(Item, discriminator="booking_round_robin"):
    """PK=WS#<ws>#BKCAPS#<event type>, SK=RR#<host>: when the host was last booked."""

    host_id = UnicodeAttribute()
    last_booked_at = UTCDateTimeAttribute()


class ContactBookingItem(Item, discriminator="contact_booking"):
    """PK=WS#<ws>#CONTACTBK#<contact>, SK=BOOKING#<id>: a booking of the contact."""

    booking_id = UnicodeAttribute()


# -- booking reminders (chalicelib/store/reminders_repo.py) ----------------------------------


class BookingReminderItem(Item, discriminator="booking_reminder"):
    """PK=BKREMIND#<UTC hour due>, SK=<due>#<ws>#<booking>#<minutes>#<sequence>: a reminder
    to send.  `held_until` (epoch) while a run sends it; `outcome` once sent or skipped.
    Expires two days after it was due."""

    workspace_id = UnicodeAttribute()
    booking_id = UnicodeAttribute()
    minutes = NumberAttribute()
    sequence = NumberAttribute()
    start = UTCDateTimeAttribute()
    due = UTCDateTimeAttribute()
    held_until = NumberAttribute(null=True)
    outcome = UnicodeAttribute(null=True)
    done_at = UTCDateTimeAttribute(null=True)


# -- booking jobs due (chalicelib/store/booking_job_outbox_repo.py) ------------------------------


class BookingJobDueItem(Item, discriminator="booking_job_due"):
    """PK=BKJOBDUE#<UTC hour of the commit>, SK=<commit time>#<ws>#<booking>#<sequence>: a
    booking job written in its booking change's transaction, deleted once the job ran;
    `requeued_at` once the sweep queued it again.  Expires three days after the commit."""

    workspace_id = UnicodeAttribute()
    booking_id = UnicodeAttribute()
    job = UnicodeAttribute()  # the BookingJob's JSON (its extra's "due" names this item)
    committed_at = UTCDateTimeAttribute()
    requeued_at = UTCDateTimeAttribute(null=True)


# -- billing (chalicelib/store/billing_repo.py; the Billing section of docs/data-model.md) ------


class BillingAccountItem(Item, discriminator="billing_account"):
    """PK=WS#<ws>, SK=billing: the workspace's plan, status, seats and processor ids.

    `seats_used` is moved only by the membership transactions (create_workspace,
    accept_invitation under `seats_used < seats_paid` and `seat_limit_until` ahead,
    remove_member); every other write leaves it alone and moves `version` instead.
    `seat_limit_until` (epoch) is the trial's end while trialing, absent otherwise.
    In the due list (GSI1 BILLINGDUE#<shard>, `<deadline>#<ws>`) while trialing or in grace."""

    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    workspace_id = UnicodeAttribute()
    plan_id = UnicodeAttribute()
    status = UnicodeAttribute()
    seats_paid = NumberAttribute()
    seats_used = NumberAttribute(default=0)
    seat_limit_until = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    period = UnicodeAttribute(null=True)
    trial_ends_at = UTCDateTimeAttribute(null=True)
    processor = UnicodeAttribute(null=True)
    stripe_customer_id = UnicodeAttribute(null=True)
    stripe_subscription_id = UnicodeAttribute(null=True)
    paypal_subscription_id = UnicodeAttribute(null=True)
    current_period_start = UTCDateTimeAttribute(null=True)
    current_period_end = UTCDateTimeAttribute(null=True)
    cancel_at_period_end = BooleanAttribute(null=True)  # absent: false
    card = UnicodeAttribute(null=True)  # JSON Card: brand, last4, expiry (never a number)
    backup_card = UnicodeAttribute(null=True)  # JSON Card (TapPay)
    # TapPay's card key and token, sealed by `store.secret_box` (never in clear).
    backup_card_secret = UnicodeAttribute(null=True)
    past_due_since = UTCDateTimeAttribute(null=True)
    grace_ends_at = UTCDateTimeAttribute(null=True)
    synced_at = UTCDateTimeAttribute(null=True)
    billing_email = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)


class BillingCustomerLookup(Item, discriminator="billing_customer"):
    """PK=BILLINGREF#<processor>#<customer or subscription id>, SK=LOOKUP → workspace id."""

    workspace_id = UnicodeAttribute()


class InvoiceItem(Item, discriminator="billing_invoice"):
    """PK=WS#<ws>, SK=billing#invoice#<id>; in the invoices view (GSI1 WS#<ws>#INVOICES,
    `<created>#<id>`).  `body` is the Invoice's JSON."""

    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    invoice_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    body = UnicodeAttribute()


class PaymentAttemptItem(Item, discriminator="billing_attempt"):
    """PK=WS#<ws>, SK=billing#attempt#<invoice>#<attempt id>: written once."""

    attempt_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    invoice_id = UnicodeAttribute()
    processor = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    outcome = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    reference = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(default="")


class RefundItem(Item, discriminator="billing_refund"):
    """PK=WS#<ws>, SK=billing#refund#<invoice>#<refund id>: written once."""

    refund_id = UnicodeAttribute()
    workspace_id = UnicodeAttribute()
    invoice_id = UnicodeAttribute()
    processor = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    reason = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    reference = UnicodeAttribute(null=True)


# -- sub-processor change notices (the Sub-processor notices section of docs/data-model.md) --


class NoticeSubscriberItem(Item, discriminator="notice_subscriber"):
    """PK=NOTICESUB#<sha256(address)>, SK=SUBSCRIBER: someone who asked for sub-processor
    change notices.  Pending until confirmed (`expires_at` set: gone unless confirmed);
    confirmed ones are in the confirmed view (GSI1 NOTICESUBS#CONFIRMED, by confirmation)."""

    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    email = UnicodeAttribute()
    lang = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | confirmed
    nonce = UnicodeAttribute()  # in its confirmation link: a newer request replaces it
    created_at = UTCDateTimeAttribute()
    confirmed_at = UTCDateTimeAttribute(null=True)


class NoticeRequestCountItem(Item, discriminator="notice_request_count"):
    """PK=NOTICEREQ#<hash of the subject>#<window>, SK=LOOKUP: subscription requests of a
    visitor, an address or everyone in one window (a rate limit); expires with the window."""

    requests = NumberAttribute(default=0)


class NoticeRecipientItem(Item, discriminator="notice_recipient"):
    """PK=SUBPROCNOTICE#<change>, SK=TO#<sha256(address)>: the change's notice to one address,
    claimed once (`attribute_not_exists`); `state` claimed until its mail is queued, then
    queued.  A claim whose run ended before queueing is taken over after `lease_until`."""

    mail_id = UnicodeAttribute()
    state = UnicodeAttribute()  # claimed | queued
    lease_until = NumberAttribute()
    claimed_at = UTCDateTimeAttribute()
    queued_at = UTCDateTimeAttribute(null=True)


class NoticeCursorItem(Item, discriminator="notice_cursor"):
    """PK=SUBPROCNOTICE#<change>, SK=CURSOR#<admins|subscribers>: how far the change's notice
    has gone down that list (a list position; it only moves forward)."""

    position = UnicodeAttribute()
