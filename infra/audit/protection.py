"""The one check every command-line read of case content makes for skyddade personuppgifter
(POL-SKYDD-ATKOMST; docs/security.md "Protected identities"): a protected case is read only in a
role the kommun names (``[skydd] roller``), never as an operator; the refusal is one line in
Swedish and English. The API makes the same check (``infra.api.access.read_case``).
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.events import CaseEvent
from domain.protection import is_protected, may_read

#: Appended to the purpose of a logged read of a protected case (the API's mark too).
PROTECTED_PURPOSE = " [skyddade personuppgifter]"


class ProtectedCase(PermissionError):
    """The reader's role may not read a protected case's content (one line, sv / en)."""

    def __init__(self, role: str) -> None:
        super().__init__(
            f"skyddade personuppgifter: rollen {role!r} får inte läsa ärendets innehåll / "
            f"protected personal data: role {role!r} may not read the case's content "
            "(POL-SKYDD-ATKOMST)"
        )
        self.role = role


def check_reader(events: Iterable[CaseEvent], role: str, roles: Iterable[str]) -> bool:
    """Whether the case of ``events`` is protected (its read is to be marked as such); raises
    ``ProtectedCase`` when it is and ``role`` is not one of ``roles``."""
    if not is_protected(events):
        return False
    if not may_read(role, roles):
        raise ProtectedCase(role)
    return True
