"""pytest plugin of samplekit (registered through the ``pytest11`` entry point)."""
