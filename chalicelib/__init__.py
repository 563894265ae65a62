"""Helptal: the helpdesk backend (Chalice app code lives in this package)."""
