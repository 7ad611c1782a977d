"""Progress of a long command on stderr (``projections rebuild``): a ``rich`` progress bar when
stderr is a terminal, nothing at all otherwise, so a pipe, a log file or a cron mail gets only
the command's result line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

#: Told ``(done, total)`` as the work goes on (``projections.runner.Progress``).
Report = Callable[[int, int], None]


def _silent(done: int, total: int) -> None:
    return None


@contextmanager
def progress_bar(label: str, *, enabled: bool = True) -> Iterator[Report]:
    """A callback that moves a bar labelled ``label`` while the block runs (a no-op when not
    ``enabled`` or when stderr is not a terminal); the bar stays on screen at 100 % after."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield _silent
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(label, total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield report
