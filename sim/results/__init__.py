"""A run's results folder: written after a run, read back for reports."""
