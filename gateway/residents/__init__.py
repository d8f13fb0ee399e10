"""Residents, their contact points, streets, one-time codes, sessions and send budgets."""
