"""Support tickets: the shared inbox, its messages, requesters (contacts) and activity."""
