"""Search layer entry point: ``get_backend()`` returns the configured backend (long-lived)."""
