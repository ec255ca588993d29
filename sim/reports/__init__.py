"""Figures and HTML pages; ``style`` is the one module that chooses matplotlib's backend."""
