"""The simulation model, the only code that imports SimPy: lead stream, teams, runs."""
