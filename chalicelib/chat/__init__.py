"""Live chat: the widget's settings, visitors' conversations (tickets with channel `chat`)
and the small live state both sides wait on (decision 0027)."""
