"""Activation of the published marts: audiences (changes and restricted contacts at
publish), export (to files and webhooks) and holdout (the control-group rule).
"""
