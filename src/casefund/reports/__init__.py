"""Outputs built from lines and decisions: claims, breakdown, eligibility, admin cap."""
