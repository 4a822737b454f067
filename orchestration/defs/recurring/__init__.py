"""Dagster definitions of recurring campaigns."""
