"""Live pushes: who is connected over the WebSocket API, to which topics, and the small
events pushed to them (docs/decisions/0028-websocket-pushes.md)."""
