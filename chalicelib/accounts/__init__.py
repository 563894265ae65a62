"""Workspaces, agents (members), sessions, API keys and invitations."""
