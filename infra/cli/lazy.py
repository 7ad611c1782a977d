"""Argument choices that argparse reads only when it checks a value or prints them.

Building the parser runs for every ``barnflow`` command (and ``--help``); a choice list that
lives in a heavy module (the report catalogue imports the store, the API's roles the pydantic
settings) would make every command pay for importing it. ``lazy_choices`` defers the import to
the moment the choices are needed: when the argument is given, or its usage is printed.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence


class LazyChoices:
    """An argument's choices, loaded (each time: argparse asks once or twice) on first use."""

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        self._load = load

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __contains__(self, value: object) -> bool:
        return value in self._load()


def lazy_choices(action: argparse.Action, load: Callable[[], Sequence[str]]) -> None:
    """Give ``action`` (what ``add_argument`` returned) the choices ``load()`` returns, read
    late. Set after ``add_argument``, which formats the metavar (so would read them) at once."""
    action.choices = LazyChoices(load)
