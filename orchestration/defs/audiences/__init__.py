"""Dagster definitions for audiences: the materialized segment tables."""
