"""Service logs: one line per event on standard output, for journald and `docker logs` alike.

A message or traceback with line breaks (a USSD menu, an exception) would otherwise become
several journal entries that no longer say which event they belong to; here the breaks are
written as "\\n" so every record stays one line.
"""

from __future__ import annotations

import logging
import sys
from typing import Final

FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OneLineFormatter(logging.Formatter):
    """The usual format, with line breaks escaped (tracebacks included)."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "\\r").replace("\n", "\\n")


def configure(level: int, *, service: bool = True) -> None:
    """Every record, one line each: on stdout for the service, on stderr for the commands
    whose stdout is JSON (`tocsin modem probe`, `simulate`)."""
    handler = logging.StreamHandler(sys.stdout if service else sys.stderr)
    handler.setFormatter(OneLineFormatter(FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
