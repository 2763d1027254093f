"""Tools for developing and measuring the project: bench (the benchmark) and
landing_batches (split landing data into loads).
"""
