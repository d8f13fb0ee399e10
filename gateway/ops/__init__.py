"""Operator commands of the CLI: modem scan, doctor, imports, progress display."""
