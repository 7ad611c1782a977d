"""A refusal travels through Temporal in one form, built in one place (review finding D16):
the workflow's validator, the append activity and the fast tier's fake all use
``workflows.messages.rejection``, so the API and the drivers read one shape."""

from __future__ import annotations

import activities.record
import tests.fast.fakes
import workflows.child_case
from domain.errors import EventValidationError, RuleViolation
from workflows.messages import rejection


def test_a_rule_violation_becomes_a_non_retryable_typed_error() -> None:
    err = rejection(RuleViolation("P-REF", "Okänd referens.", "unknown reference"))
    assert (err.type, err.non_retryable, list(err.details)) == (
        "RuleViolation",
        True,
        ["P-REF", "Okänd referens.", "unknown reference"],
    )


def test_an_invalid_field_becomes_a_non_retryable_typed_error() -> None:
    err = rejection(EventValidationError("data.omedelbart_skydd", "required"))
    assert (err.type, err.non_retryable, list(err.details)) == (
        "EventValidationError",
        True,
        ["data.omedelbart_skydd", "required"],
    )


def test_every_sender_uses_the_one_helper() -> None:
    for module in (workflows.child_case, activities.record, tests.fast.fakes):
        assert module.rejection is rejection, module.__name__
        assert not hasattr(module, "_rejection"), module.__name__
