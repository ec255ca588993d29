"""Capacity planning: the smallest team per structure for a target of wins."""
