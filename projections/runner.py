"""Running the projections: continuously (dev stack) or once up to the store's head (reports)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from eventsourcing.projection import ProjectionRunner

from infra.store import CaseStore
from projections.frister import FristerProjection, FristerView

FristerRunner = ProjectionRunner[CaseStore, FristerView]


@contextmanager
def frister_runner(env: dict[str, str]) -> Iterator[FristerRunner]:
    """The frister projection following the store until the context exits."""
    with ProjectionRunner(
        application_class=CaseStore,
        projection_class=FristerProjection,
        view_class=FristerView,
        env=env,
    ) as runner:
        yield runner


def catch_up(runner: FristerRunner, timeout: float = 60.0) -> None:
    """Block until the view has processed every event stored so far."""
    head = runner.app.max_position()
    if head:
        runner.wait(head, timeout=timeout)
