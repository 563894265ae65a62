"""Key builders: each entity owns its key format (see docs/data-model.md).

Workspace content always starts with `WS#<workspace_id>`.  A few global lookup items
(slug, e-mail, credential hash, invitation hash, login throttle) map a public value to the
owning ids; they hold no content and are never listed.
"""

from __future__ import annotations

import hashlib


def workspace_pk(workspace_id: str) -> str:
    return f"WS#{workspace_id}"


WORKSPACE_SK = "WORKSPACE"


def member_sk(user_id: str) -> str:
    return f"MEMBER#{user_id}"


MEMBER_PREFIX = "MEMBER#"


def api_key_sk(key_id: str) -> str:
    return f"APIKEY#{key_id}"


API_KEY_PREFIX = "APIKEY#"


def api_keys_of_member(workspace_id: str, user_id: str) -> str:
    """GSI1 partition of the API keys a member holds (revoked when they leave)."""
    return f"WS#{workspace_id}#APIKEYS#{user_id}"


def invitation_sk(invitation_id: str) -> str:
    return f"INVITE#{invitation_id}"


INVITATION_PREFIX = "INVITE#"


def pending_invitations(workspace_id: str) -> str:
    """GSI1 partition of a workspace's pending invitations (a sparse view: accepting or
    revoking an invitation removes it from the view)."""
    return f"WS#{workspace_id}#INVITES#PENDING"


def outbound_mail_sk(mail_id: str) -> str:
    return f"MAIL#{mail_id}"


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


USER_SK = "PROFILE"


def slug_pk(slug: str) -> str:
    return f"SLUG#{slug}"


def email_pk(email_normalised: str) -> str:
    return f"EMAIL#{email_normalised}"


def credential_pk(token_hash: str) -> str:
    return f"CRED#{token_hash}"


def email_link_pk(token_hash: str) -> str:
    return f"LINK#{token_hash}"


def sessions_of_user(user_id: str) -> str:
    """GSI1 partition of a user's sessions (signed out together on a password reset)."""
    return f"USER#{user_id}#SESSIONS"


def recovery_code_sk(code_hash: str) -> str:
    """A user's unused two-factor recovery code, in the user's item collection."""
    return f"{RECOVERY_CODE_PREFIX}{code_hash}"


RECOVERY_CODE_PREFIX = "RECOVERY#"


def login_challenge_pk(token_hash: str) -> str:
    return f"LOGINCHALLENGE#{token_hash}"


def invitation_token_pk(token_hash: str) -> str:
    return f"INVITETOKEN#{token_hash}"


def login_throttle_pk(email_normalised: str) -> str:
    # Hashed so that the table never lists addresses people merely tried.
    return "LOGINFAIL#" + hashlib.sha256(email_normalised.encode()).hexdigest()


LOOKUP_SK = "LOOKUP"


# -- tickets -------------------------------------------------------------------------------


def ticket_pk(workspace_id: str, ticket_id: str) -> str:
    """A ticket's item collection: the ticket, its messages, activity and tag entries."""
    return f"WS#{workspace_id}#T#{ticket_id}"


TICKET_SK = "TICKET"
TICKET_COUNTER_SK = "COUNTER#TICKET"
MESSAGE_PREFIX = "MSG#"
ACTIVITY_PREFIX = "ACT#"
TAG_PREFIX = "TAG#"


def message_sk(message_id: str) -> str:
    return f"{MESSAGE_PREFIX}{message_id}"


def activity_sk(activity_id: str) -> str:
    return f"{ACTIVITY_PREFIX}{activity_id}"


def tag_sk(tag: str) -> str:
    return f"{TAG_PREFIX}{tag}"


def ticket_number_sk(number: int) -> str:
    return f"TICKETNO#{number:010d}"


def rfc_message_id_sk(message_id: str) -> str:
    # Message-IDs can be long and carry any character: key on their hash.
    return "MSGID#" + hashlib.sha256(message_id.encode()).hexdigest()


def upload_sk(upload_id: str) -> str:
    """An agent's attachment upload, in the workspace partition (found from any ticket a
    merge moved its message to)."""
    return f"UPLOAD#{upload_id}"


def contact_sk(contact_id: str) -> str:
    return f"CONTACT#{contact_id}"


def contact_email_sk(email: str) -> str:
    return f"CONTACTEMAIL#{email}"


def tickets_view(workspace_id: str) -> str:
    return f"WS#{workspace_id}#TICKETS"


def tickets_by_status(workspace_id: str, status: str) -> str:
    return f"WS#{workspace_id}#TICKETS#STATUS#{status}"


def tickets_by_tag(workspace_id: str, tag: str) -> str:
    return f"WS#{workspace_id}#TICKETS#TAG#{tag}"


def tickets_by_assignee(workspace_id: str, assignee_id: str | None) -> str:
    return f"WS#{workspace_id}#TICKETS#ASSIGNEE#{assignee_id or 'none'}"


def tickets_by_assignee_and_status(workspace_id: str, assignee_id: str | None, status: str) -> str:
    return f"WS#{workspace_id}#TICKETS#ASSIGNEE#{assignee_id or 'none'}#STATUS#{status}"


def tickets_by_requester(workspace_id: str, contact_id: str) -> str:
    return f"WS#{workspace_id}#TICKETS#REQUESTER#{contact_id}"


VIEWER_PREFIX = "VIEWER#"


def viewer_sk(user_id: str) -> str:
    return f"{VIEWER_PREFIX}{user_id}"


INBOX_COUNT_PREFIX = "COUNT#"


def inbox_count_sk(bucket: str) -> str:
    return f"{INBOX_COUNT_PREFIX}{bucket}"


def activity_order(last_activity_iso: str, ticket_id: str) -> str:
    """Sort key of a ticket in every view: newest activity last (queries read backwards)."""
    return f"{last_activity_iso}#{ticket_id}"


def webhook_token_pk(provider: str, token: str) -> str:
    return f"WEBHOOK#{provider}#" + hashlib.sha256(token.encode()).hexdigest()


# -- canned responses ----------------------------------------------------------------------


def canned_response_sk(canned_id: str) -> str:
    return f"CANNED#{canned_id}"


def canned_name_sk(name_key: str) -> str:
    """Claims a canned response's name (case-folded) in its workspace: names are unique."""
    return f"CANNEDNAME#{name_key}"


def canned_responses_view(workspace_id: str) -> str:
    """GSI1 partition of a workspace's canned responses, sorted by name."""
    return f"WS#{workspace_id}#CANNED"


def canned_name_order(name_key: str, canned_id: str) -> str:
    return f"{name_key}#{canned_id}"


# -- contact directory ---------------------------------------------------------------------

CONTACT_PREFIX = "CONTACT#"


def contact_index_pk(workspace_id: str) -> str:
    """The workspace's contact search index: one entry per search term of each contact."""
    return f"WS#{workspace_id}#CONTACTIDX"


def contact_index_sk(term: str, contact_id: str) -> str:
    return f"{term}#{contact_id}"


MAILBOX_SETTINGS_SK = "SETTINGS#MAILBOX"
HELD_PREFIX = "HELD#"


def mail_address_pk(address: str) -> str:
    return f"MAILADDR#{address}"


FORWARDING_CLAIM_PREFIX = "FWDCLAIM#"


def forwarding_claim_sk(address: str) -> str:
    return f"{FORWARDING_CLAIM_PREFIX}{address}"


def sender_rate_sk(sender: str, hour: int) -> str:
    return "RATE#" + hashlib.sha256(sender.encode()).hexdigest()[:32] + f"#{hour}"


def held_sk(held_id: str) -> str:
    return f"{HELD_PREFIX}{held_id}"


def unrouted_pk(day: str) -> str:
    return f"UNROUTED#{day}"


def search_term_pk(workspace_id: str, term: str) -> str:
    return f"WS#{workspace_id}#TERM#{term}"


# -- knowledge base ------------------------------------------------------------------------

ARTICLE_SK = "ARTICLE"
ARTICLE_VERSION_PREFIX = "VER#"
KB_CATEGORY_PREFIX = "KBCAT#"


def article_pk(workspace_id: str, article_id: str) -> str:
    """An article's item collection: the current article and every saved version."""
    return f"WS#{workspace_id}#KB#{article_id}"


def article_version_sk(number: int) -> str:
    return f"{ARTICLE_VERSION_PREFIX}{number:06d}"


def article_slug_sk(locale: str, slug: str) -> str:
    """Claims a slug in one locale of a workspace (old slugs stay claimed: redirects)."""
    return f"KBSLUG#{locale}#{slug}"


def translation_sk(translation_group: str, locale: str) -> str:
    """Claims a locale in a translation group: one article per locale."""
    return f"KBTRANS#{translation_group}#{locale}"


def translation_prefix(translation_group: str) -> str:
    return f"KBTRANS#{translation_group}#"


def articles_view(workspace_id: str) -> str:
    """GSI1 partition of a workspace's articles."""
    return f"WS#{workspace_id}#KB"


def articles_by_category(workspace_id: str, category_id: str) -> str:
    """GSI2 partition of the articles of one category."""
    return f"WS#{workspace_id}#KB#CAT#{category_id}"


def article_order(status: str, locale: str, updated_iso: str, article_id: str) -> str:
    """Sort key of an article in its views: by status, locale, then last update."""
    return f"{status}#{locale}#{updated_iso}#{article_id}"


def kb_category_sk(category_id: str) -> str:
    return f"{KB_CATEGORY_PREFIX}{category_id}"


# -- ticket merges -------------------------------------------------------------------------


def merge_sk(source_ticket_id: str) -> str:
    """The merge record of a source ticket (a ticket is merged at most once)."""
    return f"{MERGE_PREFIX}{source_ticket_id}"


MERGE_PREFIX = "MERGE#"
# In a ticket's item collection: how many merges into this ticket are still unfinished.
INCOMING_MERGES_SK = "MERGES_IN"


# -- notifications -------------------------------------------------------------------------

NOTIFICATION_PREFIX = "NOTIF#"
UNREAD_PREFIX = "UNREAD#"
MAIL_WAITING_PREFIX = "MAILDUE#"
# In the member's partition, beside the NOTIF# items: none starts with "NOTIF#".
NOTIFICATION_STATE_SK = "STATE#NOTIFICATIONS"
NOTIFICATION_PREFERENCES_SK = "PREFS#NOTIFICATIONS"
NOTIFICATION_DIGEST_SK = "DIGEST#NOTIFICATIONS"
DIGEST_SHARDS = 4


def member_notifications_pk(workspace_id: str, user_id: str) -> str:
    """One member's notifications in one workspace, and their read state and preferences."""
    return f"WS#{workspace_id}#USER#{user_id}"


def notification_sk(notification_id: str) -> str:
    return f"{NOTIFICATION_PREFIX}{notification_id}"


def unread_sk(notification_id: str) -> str:
    return f"{UNREAD_PREFIX}{notification_id}"


def mail_waiting_sk(notification_id: str) -> str:
    return f"{MAIL_WAITING_PREFIX}{notification_id}"


def digests_due(shard: int) -> str:
    """GSI1 partition (one of DIGEST_SHARDS) of the members whose e-mail digest is due."""
    return f"NOTIFDIGESTS#DUE#{shard}"


def digest_shard(workspace_id: str, user_id: str) -> int:
    digest = hashlib.sha256(f"{workspace_id}#{user_id}".encode()).digest()
    return digest[0] % DIGEST_SHARDS


def digest_order(due_iso: str, workspace_id: str, user_id: str) -> str:
    return f"{due_iso}#{workspace_id}#{user_id}"


# -- live connections (WebSocket pushes) -----------------------------------------------------

LIVE_CONNECTION_SK = "CONNECTION"
LIVE_SUBSCRIPTION_PREFIX = "CONN#"


def live_connection_pk(connection_id: str) -> str:
    """Global lookup of an open WebSocket connection by its id (disconnect, messages): holds
    the workspace and topics, no content."""
    return f"LIVECONN#{connection_id}"


def live_topic_pk(workspace_id: str, topic: str) -> str:
    """The connections listening to a topic (`inbox`, `ticket:<id>`) of a workspace."""
    return f"WS#{workspace_id}#LIVE#{topic}"


def live_subscription_sk(connection_id: str) -> str:
    return f"{LIVE_SUBSCRIPTION_PREFIX}{connection_id}"


# -- chat insights (chalicelib/chat/insights.py) ------------------------------------------------


def chat_stats_sk(month: str) -> str:
    """A workspace's chat counters of one month ("YYYY-MM", its time zone)."""
    return f"CHATSTATS#{month}"


def chat_questions_prefix(month: str) -> str:
    return f"CHATQ#{month}#"


def chat_question_sk(month: str, folded_question: str) -> str:
    """One question no article answered in `month` (lower case, spaces collapsed)."""
    return f"{chat_questions_prefix(month)}{folded_question}"


# -- booking (chalicelib/store/booking_repo.py) --------------------------------------------

EVENT_TYPE_PREFIX = "EVTYPE#"
SCHEDULE_PREFIX = "SCHEDULE#"
BOOKING_PREFIX = "BOOKING#"


def event_type_sk(event_type_id: str) -> str:
    return f"{EVENT_TYPE_PREFIX}{event_type_id}"


def event_type_slug_sk(slug: str) -> str:
    """Claims an event type's slug in its workspace (moved when the slug changes)."""
    return f"EVSLUG#{slug}"


def schedule_sk(user_id: str) -> str:
    """A member's availability schedule (one per member)."""
    return f"{SCHEDULE_PREFIX}{user_id}"


def booking_sk(booking_id: str) -> str:
    return f"{BOOKING_PREFIX}{booking_id}"


def bookings_view(workspace_id: str) -> str:
    """GSI1 partition of a workspace's bookings, sorted by start."""
    return f"WS#{workspace_id}#BOOKINGS"


def booking_order(start_iso: str, booking_id: str) -> str:
    return f"{start_iso}#{booking_id}"


def host_ledger_pk(workspace_id: str, host_id: str) -> str:
    """A host's ledger: one item per UTC day with the spans their bookings hold."""
    return f"WS#{workspace_id}#LEDGER#{host_id}"


def ledger_day_sk(day: str) -> str:
    return f"DAY#{day}"


def booking_caps_pk(workspace_id: str, event_type_id: str) -> str:
    """An event type's day and week counters (caps) and round-robin marks."""
    return f"WS#{workspace_id}#BKCAPS#{event_type_id}"


def cap_day_sk(day: str) -> str:
    # Days and weeks sort together by date (a week under its Monday): one range reads both.
    return f"{day}#D"


def cap_week_sk(monday: str) -> str:
    return f"{monday}#W"


ROUND_ROBIN_PREFIX = "RR#"


def round_robin_sk(host_id: str) -> str:
    return f"{ROUND_ROBIN_PREFIX}{host_id}"


def contact_bookings_pk(workspace_id: str, contact_id: str) -> str:
    """A contact's bookings (one small entry per booking, newest id last)."""
    return f"WS#{workspace_id}#CONTACTBK#{contact_id}"


# -- booking reminders (chalicelib/store/reminders_repo.py) ----------------------------------


def booking_reminders_due_pk(hour: str) -> str:
    """The reminders due in one UTC hour (`2026-05-01T10`), across workspaces: the schedule
    reads a few of these (ids only, no content), never a Scan."""
    return f"BKREMIND#{hour}"


def booking_reminder_sk(
    due_iso: str, workspace_id: str, booking_id: str, minutes: int, sequence: int
) -> str:
    return f"{due_iso}#{workspace_id}#{booking_id}#{minutes}#{sequence}"


# -- booking jobs due (chalicelib/store/booking_job_outbox_repo.py) ------------------------------


def booking_jobs_due_pk(hour: str) -> str:
    """The booking jobs committed in one UTC hour (`2026-05-01T10`), across workspaces, until
    their job ran: the sweep reads the last day's (one Query each), never a Scan."""
    return f"BKJOBDUE#{hour}"


def booking_job_due_sk(
    committed_iso: str, workspace_id: str, booking_id: str, sequence: int
) -> str:
    return f"{committed_iso}#{workspace_id}#{booking_id}#{sequence}"


# -- billing (chalicelib/store/billing_repo.py; the Billing section of docs/data-model.md) ------

BILLING_SK = "billing"  # the workspace's billing account, in the workspace partition
INVOICE_PREFIX = "billing#invoice#"
ATTEMPT_PREFIX = "billing#attempt#"
REFUND_PREFIX = "billing#refund#"
BILLING_DUE_SHARDS = 4


def invoice_sk(invoice_id: str) -> str:
    return f"{INVOICE_PREFIX}{invoice_id}"


def invoices_view(workspace_id: str) -> str:
    """GSI1 partition of a workspace's invoices, sorted by creation (read newest first)."""
    return f"WS#{workspace_id}#INVOICES"


def invoice_order(created_iso: str, invoice_id: str) -> str:
    return f"{created_iso}#{invoice_id}"


def attempts_prefix(invoice_id: str) -> str:
    return f"{ATTEMPT_PREFIX}{invoice_id}#"


def attempt_sk(invoice_id: str, attempt_id: str) -> str:
    return f"{attempts_prefix(invoice_id)}{attempt_id}"


def refunds_prefix(invoice_id: str) -> str:
    return f"{REFUND_PREFIX}{invoice_id}#"


def refund_sk(invoice_id: str, refund_id: str) -> str:
    return f"{refunds_prefix(invoice_id)}{refund_id}"


def billing_customer_pk(processor: str, customer_ref: str) -> str:
    """Global lookup of a processor's customer or subscription id → its workspace (webhooks
    name these, not our workspace)."""
    return f"BILLINGREF#{processor}#{customer_ref}"


def billing_due(shard: int) -> str:
    """GSI1 partition (one of BILLING_DUE_SHARDS) of the accounts whose trial or grace ends:
    ids only, across workspaces; the hourly schedule reads them, never a Scan."""
    return f"BILLINGDUE#{shard}"


def billing_due_shard(workspace_id: str) -> int:
    return hashlib.sha256(workspace_id.encode()).digest()[0] % BILLING_DUE_SHARDS


def billing_due_order(deadline_iso: str, workspace_id: str) -> str:
    return f"{deadline_iso}#{workspace_id}"


# -- sub-processor change notices (chalicelib/privacy/notices.py, subscriptions.py; the
#    Sub-processor notices section of docs/data-model.md) ------------------------------------

# GSI2 partition of every workspace's owners and admins (a sparse view: their memberships
# carry its keys, agents' do not), in the order they became one: the notice job reads it
# page by page, never a Scan.
WORKSPACE_ADMINS_VIEW = "WSADMINS"


def workspace_admin_order(since_iso: str, workspace_id: str, user_id: str) -> str:
    return f"{since_iso}#{workspace_id}#{user_id}"


def address_hash(email_normalised: str) -> str:
    """An e-mail address as keys hold it: hashed, so the table lists no address in a key."""
    return hashlib.sha256(email_normalised.encode()).hexdigest()


def notice_subscriber_pk(subscriber_key: str) -> str:
    """A subscriber to the sub-processor change notices, by the hash of their address."""
    return f"NOTICESUB#{subscriber_key}"


NOTICE_SUBSCRIBER_SK = "SUBSCRIBER"
# GSI1 partition of the confirmed subscribers, in the order they confirmed.
NOTICE_SUBSCRIBERS_VIEW = "NOTICESUBS#CONFIRMED"


def notice_subscriber_order(confirmed_iso: str, subscriber_key: str) -> str:
    return f"{confirmed_iso}#{subscriber_key}"


def notice_requests_pk(subject: str, window: int) -> str:
    """Subscription requests of one subject (a visitor, an address, everyone) in one window."""
    return "NOTICEREQ#" + hashlib.sha256(subject.encode()).hexdigest()[:32] + f"#{window}"


def subprocessor_notice_pk(change_id: str) -> str:
    """The notice of one planned change: who it went to, and where each list's run stands."""
    return f"SUBPROCNOTICE#{change_id}"


def notice_recipient_sk(email_normalised: str) -> str:
    return f"TO#{address_hash(email_normalised)}"


def notice_cursor_sk(list_name: str) -> str:
    return f"CURSOR#{list_name}"
