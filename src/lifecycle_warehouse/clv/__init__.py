"""Predictive lifecycle (BG/NBD + Gamma-Gamma): model (fit, score, simulate; what
int_person_clv_predictions runs) and validation (the CDNOW holdout and its chart).
"""
