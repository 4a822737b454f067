"""Errors a person can cause: each carries one clear message for the console and the CLI."""


class UserError(Exception):
    """Bad input from a person (a file, a phone, a template, an argument): shown as one line, never a traceback."""
