"""The typed search attributes a case workflow publishes for operators (Temporal visibility).

Search attributes are stored in plaintext by Temporal, so they carry only what an operator may
see: kommun, stage, unit, the next legal due date, whether a frist is overdue, how many EVB
obligations are open and the last event position the workflow knows (to detect a workflow that
has diverged from the event store). Never identity, never case content.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

KOMMUN = SearchAttributeKey.for_keyword("BarnflowKommun")
STAGE = SearchAttributeKey.for_keyword("BarnflowStage")
ENHET = SearchAttributeKey.for_keyword("BarnflowEnhet")
NEXT_DUE = SearchAttributeKey.for_datetime("BarnflowNextDue")
OVERDUE = SearchAttributeKey.for_bool("BarnflowOverdue")
OPEN_EVB = SearchAttributeKey.for_int("BarnflowOpenEvb")
LAST_POSITION = SearchAttributeKey.for_int("BarnflowLastPosition")

ALL = (KOMMUN, STAGE, ENHET, NEXT_DUE, OVERDUE, OPEN_EVB, LAST_POSITION)

#: ``temporal operator search-attribute create`` type names, for registration on a cluster.
CLI_TYPES = {
    KOMMUN.name: "Keyword",
    STAGE.name: "Keyword",
    ENHET.name: "Keyword",
    NEXT_DUE.name: "Datetime",
    OVERDUE.name: "Bool",
    OPEN_EVB.name: "Int",
    LAST_POSITION.name: "Int",
}
