"""CLI commands: services."""
