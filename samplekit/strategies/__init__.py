"""The built-in strategies: each module is a plugin registered through the public hook."""
