"""Trigger kinds: one module per kind (base.py says what a kind is; registry.py lists them).

permissions.py manages the alias's resource-policy statements that several kinds need.
"""
