"""The errors staff actions raise, apart from the service so the scheduler can share them."""

from __future__ import annotations


class DraftError(ValueError):
    """A draft the compose page must ask again for; `field` and `code` name the problem."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


class StateError(RuntimeError):
    """Pause, resume or cancel asked of a campaign whose state does not allow it."""


class AlreadyStarted(StateError):
    """A scheduled alert that started (or was cancelled) meanwhile: nothing was sent twice."""
