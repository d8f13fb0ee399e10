"""One exception family for the storage layer, so callers can catch `StorageError`."""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error the storage layer raises on purpose."""


class MigrationError(StorageError):
    """The schema on disk cannot be brought to the version this code expects."""


class TransitionError(StorageError):
    """A message was asked to move to a state its current state does not allow."""

    def __init__(self, message_id: int, state: str | None, wanted: str) -> None:
        found = "no such message" if state is None else f"it is {state}"
        super().__init__(f"message {message_id} cannot become {wanted}: {found}")
        self.message_id = message_id
        self.state = state
        self.wanted = wanted
