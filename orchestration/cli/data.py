"""CLI commands: data."""
