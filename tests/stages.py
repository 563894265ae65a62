"""The Chalice stage the in-process test client runs under.

It is deliberately absent from `.chalice/config.json`: the test client would otherwise
overlay a real stage's environment variables (resource names) on the test environment."""

TEST_STAGE = "test"
