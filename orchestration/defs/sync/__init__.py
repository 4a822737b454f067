"""Dagster definitions of the source sync: raw Booknetic tables, the cleaned layer, customer facts."""
