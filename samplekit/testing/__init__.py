"""Property-testing kit for strategy authors (see docs/testing.md)."""
