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


def invitation_sk(invitation_id: str) -> str:
    return f"INVITE#{invitation_id}"


INVITATION_PREFIX = "INVITE#"


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


def invitation_token_pk(token_hash: str) -> str:
    return f"INVITETOKEN#{token_hash}"


def login_throttle_pk(email_normalised: str) -> str:
    # Hashed so that the table never lists addresses people merely tried.
    return "LOGINFAIL#" + hashlib.sha256(email_normalised.encode()).hexdigest()


LOOKUP_SK = "LOOKUP"
