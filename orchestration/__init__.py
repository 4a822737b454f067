"""Booknetic SMS Campaigns: the domain core (no Dagster, no Streamlit) and its Dagster code location."""
