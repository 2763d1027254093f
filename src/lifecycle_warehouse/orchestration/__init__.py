"""Dagster: assets (the gated build as assets, checks, schedule) and definitions (the code
location).
"""
