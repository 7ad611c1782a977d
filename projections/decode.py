"""Stored rows → event dicts, the cheapest correct way (decrypt, decompress, one orjson parse).

eventsourcing's mapper builds a domain-event object per row; the projections only need the
docs/domain.md §4 envelope plus the store's position and recorded time, so they decode the stored
state directly with the application's own cipher and compressor (the same bytes, the same keys).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.persistence import Cipher, Compressor


class StateDecoder:
    """Decodes the ``state`` column of ``barnflow_events`` with a cipher and compressor."""

    def __init__(self, cipher: Cipher | None, compressor: Compressor | None = None) -> None:
        self._cipher = cipher
        self._compressor = compressor

    @classmethod
    def of(cls, app: Application[UUID]) -> StateDecoder:
        """The decoder of an application's mapper (the keys the store itself uses)."""
        return cls(app.mapper.cipher, app.mapper.compressor)

    def envelope(self, state: bytes, position: int) -> dict[str, Any]:
        """The event's envelope with ``position`` and ``recorded_at`` filled in."""
        raw = bytes(state)
        if self._cipher is not None:
            raw = self._cipher.decrypt(raw)
        if self._compressor is not None:
            raw = self._compressor.decompress(raw)
        obj = orjson.loads(raw)
        env: dict[str, Any] = obj.get("envelope") or {}
        stamp = obj.get("timestamp")
        env["position"] = position
        env["recorded_at"] = stamp["_data_"] if isinstance(stamp, dict) else stamp
        return env
