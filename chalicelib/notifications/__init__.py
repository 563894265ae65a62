"""Notifications: what agents are told about (new tickets, customer replies, assignments,
mentions in notes), in the app and by a batched e-mail digest."""
