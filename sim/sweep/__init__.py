"""Parameter sweeps: the sweep file, running its runs anywhere, the summary."""
