"""The child's identifier in the yearly return (POL-ARSSTAT-ID, docs/law.md §13).

The return identifies the child by personnummer (förordning 1981:1370 lets Socialstyrelsen ask
for it; the file goes to Socialstyrelsen only, never to Temporal, the views or a log). barnflow
writes:

- a **personnummer**: its 12-digit register form ``ÅÅÅÅMMDDNNNK``, id_typ ``P``;
- a **samordningsnummer**: the same 12-digit form (day + 60), id_typ ``S``: it is a national
  number from Skatteverket, stable for the child, so it is reported as the number, not replaced;
- a **tillfälligt id** (``TMP-…``, barnflow's reservnummer for a child without a number): the
  temporary number ``ÅÅÅÅMMDD-Txyz`` (birth date, a literal T, three digits, the middle one even
  for a girl and odd for a boy) that barnflow already gives IVO for the same child
  (``domain.identity.ivo_pseudo_id``), id_typ ``T``. It is stable for the temporary id across
  years and reveals nothing of it. Without a recorded birth date there is no such number: the
  validator's ``VARIABEL_SAKNAS`` (fodelsedatum) stops the file first.

A child whose personnummer came later (``identitet_uppdaterad``) is reported with the
personnummer: the latest identity the case records is the one the year's file uses.
"""

from __future__ import annotations

from domain.identity import InvalidIdentity, parse_child_identifier

#: id_typ of each identifier kind
ID_TYP = {"personnummer": "P", "samordningsnummer": "S", "tillfalligt_id": "T"}


def return_id(identifier: str, ivo_id: str | None) -> tuple[str, str]:
    """(the id the return carries, its id_typ) for the case's latest canonical identifier.

    Raises ``InvalidIdentity`` for a temporary id without a temporary number (no birth date)."""
    ident = parse_child_identifier(identifier)
    if ident.kind == "tillfalligt_id":
        if ivo_id is None:
            raise InvalidIdentity("a temporary id needs a birth date for the return's number")
        return ivo_id, ID_TYP[ident.kind]
    return ident.canonical, ID_TYP[ident.kind]
