"""Pandas only: KPIs, tables, paired comparisons and the claims scoreboard."""
