"""The sensitivity command: which uncalibrated assumptions decide the verdict."""
