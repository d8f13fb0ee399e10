"""Webhooks (issue 6): signed JSON POSTs of inbound SMS and API message states, retried."""
