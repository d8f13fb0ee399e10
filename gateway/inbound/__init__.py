"""Inbound SMS routing (keywords, neighbour alerts, unknown senders) and the neighbour relay."""
