"""Outbound e-mail: what we send, in which language, and how it reaches Mailgun."""
