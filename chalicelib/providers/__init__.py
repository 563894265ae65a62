"""One adapter per provider; vendor SDKs and HTTP clients are imported inside them, lazily."""
