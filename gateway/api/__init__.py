"""The HTTP API for other municipal systems (issue 6): tokens, one SMS, alerts, status."""
