"""Forwarding addresses: an address of the customer's (support@their-company) whose mail
lands in the workspace's inbox, once its owner has confirmed it.

Adding an address creates a pending claim and mails a confirmation to that address.  The
claim is confirmed when that mail comes back forwarded into the workspace's own inbound
address (the mailbox owner set up forwarding), or when a manager enters the code it carries.
Only confirmed addresses route mail; a pending claim blocks nobody (several workspaces may
claim one address: the first to confirm takes it, atomically) and expires after 7 days.
Code and token are HMACs of the claim under a key derived from the reply-address secret:
nothing secret is stored, and a new claim (new nonce) makes the old code worthless."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from chalicelib.accounts.model import Principal
from chalicelib.accounts.workspaces import existing_workspace
from chalicelib.errors import Conflict, NotFound, TooManyRequests, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.mail.inbound.model import InboundMail
from chalicelib.mail.outbound import OutboundMail
from chalicelib.observability import logger
from chalicelib.tickets.deps import TicketDeps
from chalicelib.tickets.mailbox import AddressTaken, ClaimGone, ForwardingClaim
from chalicelib.tickets.mailbox_admin import require_manager, write_settings

PENDING_FOR = timedelta(days=7)
RESEND_AFTER = timedelta(minutes=1)  # adding a pending address again re-sends, not faster
MAX_PENDING = 20
MAX_WRONG_CODES = 5
TOKEN_HEADER = "X-Helptal-Forwarding-Confirmation"
_TOKEN = re.compile(r"\bHTFC-[0-9a-f]{32}\b", re.IGNORECASE)
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or retyped
_KEY_PURPOSE = b"helptal/forwarding-confirmation/v1"


@dataclass(frozen=True)
class ForwardingAddress:
    """One forwarding address as the settings show it."""

    address: str
    status: str  # pending | confirmed
    forward_to: str  # the workspace's inbound address, where its mail should be forwarded
    expires_at: datetime | None = None  # of a pending claim


def normalise(address: str) -> str:
    return address.strip().lower()


def mailbox_of(address: str) -> str:
    """The mailbox an address delivers to: case and a `+tag` in the local part ignored."""
    local, _, domain = normalise(address).rpartition("@")
    return f"{local.partition('+')[0]}@{domain}"


def _is_ours(deps: TicketDeps, address: str) -> bool:
    domain = mailbox_of(address).rpartition("@")[2]
    ours = (deps.policy.inbound_mail_domain.lower(), deps.policy.mail_domain.lower())
    return any(domain == d or domain.endswith("." + d) for d in ours)


def _mac(secret: str, purpose: str, claim: ForwardingClaim) -> bytes:
    # A per-purpose key: a code or token can never be mistaken for a reply signature.
    key = hmac.new(secret.encode(), _KEY_PURPOSE, hashlib.sha256).digest()
    message = f"{purpose}\n{claim.workspace_id}\n{claim.address}\n{claim.nonce}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def confirmation_token(secret: str, claim: ForwardingClaim) -> str:
    """What the inbound path looks for in a forwarded confirmation mail."""
    return "HTFC-" + _mac(secret, "mail", claim).hex()[:32]


def confirmation_code(secret: str, claim: ForwardingClaim) -> str:
    """The code a person passes on: 8 characters (40 bits), shown as XXXX-XXXX."""
    number = int.from_bytes(_mac(secret, "code", claim)[:5], "big")
    chars = "".join(_CODE_ALPHABET[(number >> (5 * i)) & 31] for i in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def _forward_to(deps: TicketDeps, workspace_id: str) -> str:
    workspace = existing_workspace(deps.accounts, workspace_id)
    return f"{workspace.slug}@{deps.policy.inbound_mail_domain}"


def list_addresses(deps: TicketDeps, workspace_id: str) -> list[ForwardingAddress]:
    """Confirmed addresses, then pending claims that have not expired."""
    forward_to = _forward_to(deps, workspace_id)
    confirmed = deps.mailbox.get_settings(workspace_id).forwarding_addresses
    now = deps.clock.now()
    pending = [
        ForwardingAddress(c.address, "pending", forward_to, c.expires_at)
        for c in deps.mailbox.list_claims(workspace_id, MAX_PENDING * 2)
        if c.expires_at > now and c.address not in confirmed
    ]
    return [ForwardingAddress(a, "confirmed", forward_to) for a in confirmed] + pending


def _current_claim(deps: TicketDeps, workspace_id: str, address: str) -> ForwardingClaim | None:
    claim = deps.mailbox.get_claim(workspace_id, address)
    return claim if claim is not None and claim.expires_at > deps.clock.now() else None


def request_address(deps: TicketDeps, principal: Principal, address: str) -> ForwardingAddress:
    """Claims `address` for the workspace, pending, and mails its confirmation to it.
    Writes the claim; queues the confirmation mail.  Adding a pending address again sends
    the same code again (at most once a minute) and restarts its 7 days."""
    require_manager(principal)
    address = normalise(address)
    workspace_id = principal.workspace_id
    if _is_ours(deps, address):
        raise ValidationFailed(
            "That is a Helptal address; register an address of your own.",
            code="own_domain_address",
            details=[{"field": "address", "message": "a Helptal address"}],
        )
    forward_to = _forward_to(deps, workspace_id)
    if address in deps.mailbox.get_settings(workspace_id).forwarding_addresses:
        return ForwardingAddress(address, "confirmed", forward_to)
    now = deps.clock.now()
    claim = _current_claim(deps, workspace_id, address)
    if claim is not None:
        if now - claim.sent_at < RESEND_AFTER:
            wait = RESEND_AFTER - (now - claim.sent_at)
            raise TooManyRequests(
                "The confirmation was sent a moment ago; check that mailbox first.",
                retry_after_seconds=int(wait.total_seconds()) + 1,
                code="confirmation_just_sent",
            )
        claim = replace(claim, sent_at=now, expires_at=now + PENDING_FOR)
    else:
        pending = [
            c for c in deps.mailbox.list_claims(workspace_id, MAX_PENDING + 1) if c.expires_at > now
        ]
        if len(pending) >= MAX_PENDING:
            raise Conflict(
                f"At most {MAX_PENDING} addresses can wait for confirmation; "
                "confirm or remove some first.",
                code="too_many_pending_addresses",
            )
        claim = ForwardingClaim(
            workspace_id=workspace_id,
            address=address,
            nonce=secrets.token_hex(16),
            requested_at=now,
            sent_at=now,
            expires_at=now + PENDING_FOR,
        )
    deps.mailbox.save_claim(claim)
    _send_confirmation(deps, claim, forward_to)
    return ForwardingAddress(address, "pending", forward_to, claim.expires_at)


def _send_confirmation(deps: TicketDeps, claim: ForwardingClaim, forward_to: str) -> None:
    from chalicelib.mail.templates import forwarding_confirmation_mail

    workspace = existing_workspace(deps.accounts, claim.workspace_id)
    secret = deps.policy.reply_address_secret
    token = confirmation_token(secret, claim)
    rendered = forwarding_confirmation_mail(
        workspace.locale,
        workspace=workspace.name,
        address=claim.address,
        forward_to=forward_to,
        code=confirmation_code(secret, claim),
        token=token,
        days=PENDING_FOR.days,
        formality=workspace.formality,
    )
    # From our no-reply address with no Reply-To: an auto-reply quoting the code goes
    # nowhere near a workspace's inbox.
    deps.outbox.enqueue(
        OutboundMail(
            mail_id=new_id(),
            workspace_id=claim.workspace_id,
            purpose="forwarding_confirmation",
            from_name="Helptal",
            to=[claim.address],
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            headers={"Auto-Submitted": "auto-generated", TOKEN_HEADER: token},
            tags=["forwarding_confirmation"],
        )
    )


def _take(deps: TicketDeps, claim: ForwardingClaim) -> None:
    """Confirms the claim: the address is the workspace's from now on."""

    def write() -> None:
        settings = deps.mailbox.get_settings(claim.workspace_id)
        deps.mailbox.confirm_claim(claim.workspace_id, settings, claim)

    try:
        write_settings(write)
    except AddressTaken:
        raise Conflict(
            "Another workspace already receives the mail of this address; it has to remove "
            "the address first.",
            code="address_taken",
        ) from None
    except ClaimGone:
        raise NotFound(
            "This address is not waiting for confirmation.", code="address_not_pending"
        ) from None


def _same_code(entered: str, expected: str) -> bool:
    def clean(code: str) -> str:
        return re.sub(r"[^0-9A-Z]", "", code.upper())

    return hmac.compare_digest(clean(entered).encode(), clean(expected).encode())


def confirm_with_code(
    deps: TicketDeps, principal: Principal, address: str, code: str
) -> ForwardingAddress:
    """Confirms a pending address with the code from its confirmation mail.  After
    MAX_WRONG_CODES wrong codes the claim is dropped: adding the address again sends a new
    code.  Writes the claim's count, or (right code) the lookup, settings and claim."""
    require_manager(principal)
    address = normalise(address)
    workspace_id = principal.workspace_id
    forward_to = _forward_to(deps, workspace_id)
    if address in deps.mailbox.get_settings(workspace_id).forwarding_addresses:
        return ForwardingAddress(address, "confirmed", forward_to)
    claim = _current_claim(deps, workspace_id, address)
    if claim is None:
        raise NotFound("This address is not waiting for confirmation.", code="address_not_pending")
    if claim.wrong_codes < MAX_WRONG_CODES and _same_code(
        code, confirmation_code(deps.policy.reply_address_secret, claim)
    ):
        _take(deps, claim)
        return ForwardingAddress(address, "confirmed", forward_to)
    try:
        wrong = deps.mailbox.note_wrong_code(workspace_id, address)
    except ClaimGone:
        wrong = MAX_WRONG_CODES
    if wrong >= MAX_WRONG_CODES:
        deps.mailbox.drop_claim(workspace_id, address)
        raise ValidationFailed(
            "Too many wrong codes: add the address again to get a new code.",
            code="confirmation_code_expired",
            details=[{"field": "code", "message": "too many wrong codes"}],
        )
    raise ValidationFailed(
        "That is not the code of this address.",
        code="wrong_confirmation_code",
        details=[{"field": "code", "message": "wrong code"}],
    )


def confirm_from_mail(deps: TicketDeps, workspace_id: str, mail: InboundMail) -> bool:
    """True when `mail` is one of our confirmation mails, forwarded into `workspace_id`'s
    inbound address, for one of its pending claims: that claim is confirmed (or, taken by
    another workspace meanwhile, left pending) and the mail is not ticketed.  Only the mail
    as we sent it counts (From: our sending domain), not a person's forward or an auto-reply
    quoting it; a person can read the code out instead."""
    sent_by_us = mail.from_address.rpartition("@")[2] == deps.policy.mail_domain.lower()
    if not sent_by_us:
        return False
    found = _TOKEN.findall(
        " ".join([mail.header(TOKEN_HEADER) or "", mail.subject, mail.text, mail.html or ""])
    )
    if not found:
        return False
    tokens = {t.upper() for t in found}
    now = deps.clock.now()
    secret = deps.policy.reply_address_secret
    for claim in deps.mailbox.list_claims(workspace_id, MAX_PENDING * 2):
        if claim.expires_at <= now:
            continue
        expected = confirmation_token(secret, claim).upper()
        if any(hmac.compare_digest(expected, token) for token in tokens):
            try:
                _take(deps, claim)
            except (Conflict, NotFound) as e:
                logger.warning("forwarding confirmation not applied", extra={"reason": e.message})
            else:
                logger.info("forwarding address confirmed by its forwarded mail")
            return True
    return False


def remove_address(deps: TicketDeps, principal: Principal, address: str) -> None:
    """Removes a confirmed address (frees it for others) or a pending claim."""
    require_manager(principal)
    address = normalise(address)
    workspace_id = principal.workspace_id
    if _current_claim(deps, workspace_id, address) is not None:
        deps.mailbox.drop_claim(workspace_id, address)
        if address not in deps.mailbox.get_settings(workspace_id).forwarding_addresses:
            return

    def write() -> None:
        settings = deps.mailbox.get_settings(workspace_id)
        if address not in settings.forwarding_addresses:
            raise NotFound("No such forwarding address.", code="address_not_found")
        deps.mailbox.release_address(workspace_id, settings, address)

    write_settings(write)
