"""One error family for the residents package, so the web layer can catch it in one place."""

from __future__ import annotations


class ResidentError(Exception):
    """Base of every error a resident can cause by what they typed; `code` names it for the UI."""

    code = "invalid"


class InvalidNumber(ResidentError):
    """Not a number residents may use (malformed, foreign, short code, premium, toll-free)."""

    code = "invalid_number"


class WeakPassword(ResidentError):
    """Too short, too long, or in the common-passwords list."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class InvalidField(ResidentError):
    """A profile field failed validation; `field` names the form field."""

    def __init__(self, field: str, code: str = "invalid") -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code
