"""CLI commands: audiences."""
