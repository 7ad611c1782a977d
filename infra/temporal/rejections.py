"""A refused command, from the workflow's failure to what the caller sees: the one place that maps
a rejection to an HTTP answer (``POST /commands``, ``POST /import``) and to a CLI line
(``barnflow case send``).

The workflow (its update validator and handler) and the append activity refuse a command with
``workflows.messages.rejection`` (a typed, non-retryable ``ApplicationError``);
``workflows.messages.rejected`` turns it back into the domain error; this module decides the
answer: a rule violation is 409 with the rule id and both languages, an invalid field is 422
naming the field. The API turns an ``Answer`` into problem+json (``infra.api.problems``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.errors import EventValidationError, RuleViolation


class CommandRejected(Exception):
    """A command was refused; carries the RuleViolation or EventValidationError."""

    def __init__(self, cause: RuleViolation | EventValidationError) -> None:
        super().__init__(str(cause))
        self.cause = cause


@dataclass(frozen=True)
class Answer:
    """What an HTTP caller gets for a refusal: status, problem type slug, detail, members."""

    status: int
    kind: str
    detail: str
    members: dict[str, Any] = field(default_factory=dict)


def answer(cause: RuleViolation | EventValidationError) -> Answer:
    """409 for a well-formed command a rule forbids (rule id, sv, en); 422 naming the field of a
    malformed one."""
    if isinstance(cause, RuleViolation):
        return Answer(
            409, "rule-violation", cause.en, {"rule": cause.rule, "sv": cause.sv, "en": cause.en}
        )
    sv, en = cause.texts
    return Answer(422, "validation", en, {"field": cause.field, "sv": sv, "en": en})


def texts(cause: RuleViolation | EventValidationError) -> tuple[str, str]:
    """``(sv, en)`` of a refusal: the rule's own texts (with its id) or the field's."""
    if isinstance(cause, RuleViolation):
        return f"[{cause.rule}] {cause.sv}", f"[{cause.rule}] {cause.en}"
    return cause.texts


def cli_line(cause: RuleViolation | EventValidationError | Exception, line: int) -> str:
    """The one line ``barnflow case send`` prints for a refused input line (exit code 2): the
    same English and Swedish texts the API answers."""
    if isinstance(cause, RuleViolation | EventValidationError):
        sv, en = texts(cause)
        return f"barnflow: line {line}: {en} | sv: {sv}"
    return f"barnflow: line {line}: {cause}"
