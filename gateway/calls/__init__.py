"""Voice calls for outbox messages on Channel.VOICE: scripts, the call runner, outcomes."""
