"""An example request body for each body and form schema, shown by the API reference (and
filled in by "Try it out").  A schema's own `examples` come first; tests/unit/test_openapi.py
checks that each example here is valid for its schema."""

from __future__ import annotations

from typing import Any

TICKET_ID = "01JD3Y5Q6M8Z4XK2T9B7C1N0PA"
MESSAGE_ID = "01JD3Y7R2W5V8H3J6K9M4N1P0B"
MEMBER_ID = "01JD3XZ2A4C6E8G0J2M4P6R8TV"
CATEGORY_ID = "01JD3Y0B1C2D3E4F5G6H7J8K9M"
PASSWORD = "a long and unusual passphrase"

REQUEST_EXAMPLES: dict[str, dict[str, Any]] = {
    "AcceptIn": {"name": "Bob Martin", "password": PASSWORD},
    "AiSettingsIn": {
        "enabled": True,
        "features": {"triage": True, "drafts": True, "auto_apply_triage": False},
        "tone": {
            "description": "Warm and direct; short sentences; no jargon.",
            "sign_off": "Best, the Acme team",
            "avoid": ["unfortunately"],
        },
        "redaction": {"emails": True, "phones": True},
    },
    "ApiKeyIn": {"name": "CRM sync", "role": "agent"},
    "BackupCardIn": {
        "prime": "test_3a2fb2b7e892b914a03c95dd4dd5dc7970c908df67a49527c0a648b2bc9",
        "cardholder": {"name": "Ann Lee", "email": "ann@acme.test", "phone": "+886912345678"},
    },
    "CheckoutIn": {"plan": "pro", "period": "year", "seats": 5, "processor": "stripe"},
    "SeatsIn": {"seats": 6},
    "SubscriptionCancelIn": {"when": "now", "reason": "We are moving to another tool."},
    "ApiKeyTransferIn": {"member_id": MEMBER_ID},
    "ArticleFeedbackForm": {"helpful": "yes"},
    "ArticlePreviewIn": {"body": "| Plan | Price |\n|---|---:|\n| Pro | 20 € |\n\n- [x] Paid"},
    "ArticleIn": {
        "title": "How refunds work",
        "body": "Refunds reach your card **within 5 days**.",
        "locale": "en",
        "status": "published",
        "category_id": CATEGORY_ID,
        "tags": ["billing"],
    },
    "ArticlePatchIn": {"status": "published", "tags": ["billing", "refunds"]},
    "CannedApplyIn": {"send": True, "last_seen_message_id": MESSAGE_ID},
    "CannedResponseIn": {
        "name": "Refund on its way",
        "body": "Hi {{requester.first_name}}, your refund is on its way.",
        "locale": "en",
        "set_status": "solved",
        "add_tags": ["refund"],
    },
    "CannedResponsePatchIn": {"set_status": "pending"},
    "CategoryIn": {"name": "Billing", "description": "Invoices, refunds and payment methods."},
    "CategoryPatchIn": {"position": 1},
    "DraftIn": {"instruction": "shorter, and apologise for the delay"},
    "ForwardingAddressIn": {"address": "support@acme.example"},
    "ForwardingConfirmationIn": {"code": "K7QF-3ZNP"},
    "HelpCentreSettingsIn": {"name": "Acme Help", "brand_color": "#0b7a75"},
    "HelpCentreContactForm": {
        "name": "Carol",
        "email": "carol@customer.example",
        "subject": "Charged twice this month",
        "message": "Hello, I was charged twice for March. Can I get a refund?",
        "token": "the token of the form's cookie",
    },
    "ImageUploadIn": {"filename": "refund-steps.png", "content_type": "image/png", "size": 48213},
    "InvitationIn": {"email": "bob@acme.example", "role": "agent"},
    "JoinForm": {"name": "Bob Martin", "password": PASSWORD},
    "LoginIn": {"email": "ann@acme.example", "password": PASSWORD},
    "MailboxSettingsIn": {
        "acknowledgement": {"enabled": True},
        "sender_rate_per_hour": 20,
    },
    "MemberPatchIn": {"role": "admin"},
    "TicketsBulkIn": {
        "ticket_ids": ["01JD3ZQ5V4W2Y8K7M6N5P4Q3R2", "41"],
        "changes": {"status": "solved", "add_tags": ["refund"]},
    },
    "NewPasswordForm": {"password": "a brand new passphrase"},
    "PasswordResetIn": {"email": "ann@acme.example", "locale": "en"},
    "NotificationPreferencesIn": {
        "new_ticket": {"in_app": True, "email": False},
        "mention": {"in_app": True, "email": True},
    },
    "MergeIn": {"into": "41"},
    "MessageIn": {
        "body": "Thanks for waiting: your refund was sent today.",
        "kind": "reply",
        "last_seen_message_id": MESSAGE_ID,
    },
    "ReplyTranslationIn": {"text": "Your refund was sent today.", "to": "fr"},
    "SignupIn": {
        "workspace_name": "Acme Support",
        "name": "Ann Lee",
        "email": "ann@acme.example",
        "password": PASSWORD,
        "locale": "en",
        "timezone": "Europe/Paris",
    },
    "TicketIn": {
        "requester": {"email": "carol@customer.example", "name": "Carol"},
        "subject": "Charged twice this month",
        "body": "Hello, I was charged twice for March. Can I get a refund?",
        "tags": ["billing"],
        "priority": "high",
    },
    "TicketPatchIn": {"status": "pending", "assignee_id": MEMBER_ID},
    "ToneLearnIn": {"sample_size": 20},
    "AvatarUploadIn": {"content_type": "image/png", "size": 48213},
    "PasswordChangeIn": {
        "current_password": PASSWORD,
        "new_password": "another long and unusual passphrase",
    },
    "ProfilePatchIn": {"name": "Ann Martin", "locale": "fr"},
    "TwoFactorCodeIn": {"code": "492039"},
    "TwoFactorDisableIn": {"code": "492039"},
    "TwoFactorLoginIn": {
        "challenge": "htc_Qm9yZGVhdXgtMjAyNi0xMS0zMFQxNjozMDowMFo",
        "code": "492039",
    },
    "TranslateIn": {"to": "en"},
    "WorkspacePatchIn": {"name": "Acme Customer Care", "timezone": "Europe/Paris"},
    "ChatSettingsIn": {
        "enabled": True,
        "colour": "#0b7a75",
        "greeting": {"en": "Hi! Ask us anything.", "fr": "Bonjour ! Posez-nous vos questions."},
        "office_hours": {
            "weekly": {"mon": [{"start": "09:00", "end": "17:00"}]},
            "always_open": False,
        },
        "allowed_origins": ["https://www.acme.example"],
        "pre_chat_fields": {"name": "optional", "email": "optional"},
    },
    "ChatStartIn": {
        "message": "Hello, can I change my plan mid-month?",
        "page_url": "https://www.acme.example/pricing",
        "language": "en-GB",
        "local_time": "2026-11-30T14:05:00+00:00",
        "client_id": "c-1",
    },
    "ChatHistoryIn": {
        "identity": {
            "user_id": "u-4821",
            "email": "carol@customer.example",
            "user_hash": "9f2c0c7e5b3a4d18e6f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7",
        }
    },
    "ChatMessageIn": {"text": "And is there a yearly price?", "client_id": "c-2"},
    "ChatTypingIn": {"typing": True},
    "ChatSeenIn": {"message_id": MESSAGE_ID},
    "ChatRatingIn": {"rating": "good", "comment": "Quick and clear, thanks!"},
    "ChatEmailIn": {"email": "carol@customer.example", "name": "Carol"},
    "ChatFeedbackIn": {"message_id": MESSAGE_ID, "helped": True},
    "ChatEndIn": {"transcript": True},
    "TicketTypingIn": {"typing": True},
    "ChatAttachmentIn": {"filename": "screenshot.png", "content_type": "image/png", "size": 48213},
    "TicketSeenIn": {"message_id": MESSAGE_ID},
    "ExportIn": {"contact_email": "carol@customer.example"},
    "ErasureIn": {"email": "carol@customer.example"},
    "RetentionIn": {"closed_tickets_after_months": 24},
    "WorkspaceDeletionIn": {"confirm_slug": "acme-support"},
}


def request_example(name: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The example shown for body schema `name` (its JSON schema's first, else ours)."""
    own = schema.get("examples")
    if own:
        first: dict[str, Any] = own[0]
        return first
    return REQUEST_EXAMPLES.get(name)
