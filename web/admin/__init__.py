"""The admin console (issue 6): staff sign-in, alerts, progress, reports, reference data."""
