"""The domain's exception hierarchy.

Two kinds of "no": an input that is malformed (``EventValidationError``, names the field) and a
well-formed command that a rule forbids (``RuleViolation``, names the rule). The HTTP API maps the
first to 422 and the second to 409; the CLI prints either as one line and exits 2.
"""

from __future__ import annotations

from domain.error_texts import field_texts


class DomainError(Exception):
    """Base class for every error the domain raises on purpose."""


class EventValidationError(DomainError, ValueError):
    """An event line or command is malformed: a field is missing, unknown or has a bad value."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    @property
    def texts(self) -> tuple[str, str]:
        """``(sv, en)``: the refusal in Swedish and English, both naming the field
        (``domain.error_texts``)."""
        return field_texts(self.field, self.message)


class RuleViolation(DomainError):
    """A well-formed command that a statutory, local or process rule forbids.

    ``rule`` is the rule id (``A2``, ``B4``, ``P-FUTURE`` …) so that a rejection can always be
    traced to the paragraph or policy behind it; ``sv`` and ``en`` are the messages for the
    handläggare and for the integrating system's developers.
    """

    def __init__(self, rule: str, sv: str, en: str) -> None:
        super().__init__(f"[{rule}] {en}")
        self.rule = rule
        self.sv = sv
        self.en = en
