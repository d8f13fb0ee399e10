"""Municipal alerts: staff accounts, targeting, preview, fan-out, progress and report (issue 6)."""
