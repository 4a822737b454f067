"""Dagster definitions for audiences: the materialized segments (a members table and a view each)."""
