"""Turning decisions into lines: the payer waterfall, payment models and caps."""
