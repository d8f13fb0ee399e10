"""Progress of long CLI operations: a rich bar on a terminal, plain lines in a log or a pipe."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final, TextIO

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

# Plain output: one line per tenth of the work, so a log shows progress without flooding.
_PLAIN_STEPS: Final = 10

# Called with (done, total) as work advances; safe from worker threads.
Advance = Callable[[int, int], None]


@contextmanager
def progress(description: str, *, stream: TextIO | None = None) -> Iterator[Advance]:
    """Yield a (done, total) callback that draws a bar on a TTY and prints lines otherwise."""
    out = stream if stream is not None else sys.stdout
    if out.isatty():
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeRemainingColumn(),
            transient=False,
        ) as bar:
            task = bar.add_task(description, total=None)

            def draw(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            yield draw
        return
    lock = threading.Lock()
    printed = [-1]

    def line(done: int, total: int) -> None:
        step = _PLAIN_STEPS * done // total if total > 0 else _PLAIN_STEPS
        with lock:
            if step > printed[0]:
                printed[0] = step
                print(f"{description}: {done}/{total}", file=out, flush=True)

    yield line
