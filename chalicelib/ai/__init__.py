"""The AI teammate: opt-in per workspace; nothing reaches an AI provider unless enabled."""
