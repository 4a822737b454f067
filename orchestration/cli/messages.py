"""CLI commands: messages."""
