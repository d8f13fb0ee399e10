"""SQLite storage: the database, its migrations, and the repositories that return dataclasses."""

from gateway.storage.database import Database
from gateway.storage.errors import MigrationError, StorageError, TransitionError
from gateway.storage.inbox import InboundMessage, Inbox, pdu_hash

__all__ = [
    "Database",
    "InboundMessage",
    "Inbox",
    "MigrationError",
    "StorageError",
    "TransitionError",
    "pdu_hash",
]
