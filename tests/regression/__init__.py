"""Output-hash regression: the shipped scenarios' tables must not change silently."""
