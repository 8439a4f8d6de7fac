"""The built-in batchers, each registered through the ``samplekit_register_batchers`` hook."""
