"""Local stand-ins for providers: real HTTP servers speaking each provider's API, so the real
clients are exercised.  Used by the tests and by `make run` (nothing here is deployed)."""
