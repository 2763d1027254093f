"""Great Expectations quality gates, one suite per layer: gx (run a gate), suites (the
checks), config (their bounds).
"""
