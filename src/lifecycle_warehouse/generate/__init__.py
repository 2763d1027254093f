"""Synthetic landing data for the demo: generator (the entry point, generate()), command
(`lw generate`), and one module per part of the behaviour model.
"""
