"""Vectorized derivations of the facts rules read: ages, enrollment, lookbacks, observations."""
