"""Experts' technical achievements (科技成果)."""
