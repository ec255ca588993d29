"""Figures and HTML pages (the one place that chooses matplotlib's backend)."""
