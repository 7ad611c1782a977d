"""Free text never carries a personnummer, and an appeal's party is a role label, not a name.

Free-text fields (reasons, conclusions, ids) travel in events to the store, Temporal payloads,
views and reports. The child is identified only by ``data.barn``; a personnummer or
samordningsnummer typed into a reason is refused at every entry point (they all call
``parse_event``) before anything is stored, and so is a name in ``part``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from domain.errors import EventValidationError
from domain.events import parse_event
from domain.identity import contains_identity_number
from tests.factories import PNR_BOY, PNR_GIRL
from tests.factories import line as _line

AT = datetime.fromisoformat("2026-10-20T10:00:00+02:00")


def line(etype: str, data: dict[str, Any]) -> dict[str, Any]:
    return _line(etype, data, at=AT, key="k")


@pytest.mark.parametrize("pnr", [PNR_GIRL, PNR_GIRL[2:], PNR_BOY, PNR_BOY.replace("-", "")])
def test_a_personnummer_in_a_reason_is_refused_naming_the_field(pnr: str) -> None:
    with pytest.raises(EventValidationError) as err:
        parse_event(
            line(
                "utredning_forlangd",
                {"utredning_id": "U1", "ny_slutdag": "2026-12-20", "skal": f"barnet {pnr} sjukt"},
            )
        )
    assert err.value.field == "data.skal"
    assert "personnummer" in str(err.value)


@pytest.mark.parametrize(
    "text",
    [
        "ärende 2026-0042, möte 14:30",
        "beslut B-20261020-1",
        "1234567890",  # month 34: no date
        "telefon 0701234567",  # month 01 day 23 but the Luhn digit is wrong
        "protokoll 20261020 § 12",
    ],
)
def test_ordinary_numbers_in_free_text_are_accepted(text: str) -> None:
    assert not contains_identity_number(text)
    ev = parse_event(
        line(
            "utredning_forlangd",
            {"utredning_id": "U1", "ny_slutdag": "2026-12-20", "skal": text},
        )
    )
    assert ev.data["skal"] == text


def test_a_samordningsnummer_is_found_too() -> None:
    # day 61 + 60 offset style: 701063-2391 is a published Skatteverket example
    assert contains_identity_number("samordningsnummer 701063-2391")


@pytest.mark.parametrize("etype", ["beslut_delgivet", "overklagande_mottaget"])
def test_an_appeal_party_is_a_role_label_not_a_name(etype: str) -> None:
    data: dict[str, Any] = {"beslut_id": "B1", "part": "Anna Svensson"}
    if etype == "overklagande_mottaget":
        data["overklagande_id"] = "O1"
    with pytest.raises(EventValidationError) as err:
        parse_event(line(etype, data))
    assert err.value.field == "data.part"
    assert "label" in str(err.value)
    data["part"] = "vardnadshavare_1"
    assert parse_event(line(etype, data)).data["part"] == "vardnadshavare_1"
