"""Inbound e-mail: what Mailgun's inbound route posts, read into one `InboundMail`.

Pure domain code (standard library only; charset-normalizer used when installed): no
parsing error escapes, whatever arrives."""

from chalicelib.mail.inbound.headers import normalise_message_id, parse_address_list
from chalicelib.mail.inbound.mailgun import parse_mailgun_form
from chalicelib.mail.inbound.mime import parse_mime
from chalicelib.mail.inbound.model import InboundAttachment, InboundMail

__all__ = [
    "InboundAttachment",
    "InboundMail",
    "normalise_message_id",
    "parse_address_list",
    "parse_mailgun_form",
    "parse_mime",
]
