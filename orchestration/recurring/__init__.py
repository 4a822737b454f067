"""Recurring campaigns: definitions (a cron in a time zone, an audience, a template), the campaign each occurrence
makes, and the keys that keep anyone from being messaged twice for the same appointment across occurrences.

Import the modules themselves (`definitions`, `occurrences`, `first_messages`): `first_messages` is used by the
campaign lifecycle, which `occurrences` uses in turn."""
