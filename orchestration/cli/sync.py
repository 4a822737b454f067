"""CLI commands: sync."""
