"""The command line: argument parsing and printing over the modules below."""
