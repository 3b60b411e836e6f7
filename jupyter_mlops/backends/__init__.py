"""Backends: where runs execute. Chosen by name with `get_backend`; nothing heavy is imported here."""
