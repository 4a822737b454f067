"""CLI commands: campaigns."""
