"""CLI commands: simulator."""
