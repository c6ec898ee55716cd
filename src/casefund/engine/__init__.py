"""Evaluating rule files over fact frames (the batch evaluator)."""
