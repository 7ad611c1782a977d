"""Aggregation helpers: age bands, kön splits, median and p90 (deterministic, JSON-ready).

docs/domain.md §5 requires every aggregate split by kön and age band, so every figure of every
report goes through ``split``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from domain.events import KON

AGE_BANDS = ("0-12", "13-17", "18-20")
UNKNOWN = "okand"
T = TypeVar("T")


def age_on(born: date | None, day: date) -> int | None:
    """Completed years on ``day`` (a birthday counts from the day itself)."""
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def age_band(born: date | None, day: date) -> str:
    """0–12, 13–17, 18–20, or ``okand`` (no birth date, or outside the child-care ages)."""
    age = age_on(born, day)
    if age is None or age < 0 or age > 20:
        return UNKNOWN
    if age <= 12:
        return "0-12"
    return "13-17" if age <= 17 else "18-20"


def kon_of(value: object) -> str:
    return value if isinstance(value, str) and value in KON else "okant"


def percentile(values: Sequence[int], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of integers; ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return float(ordered[int(rank) - 1])


def median(values: Sequence[int]) -> float | None:
    """The median (mean of the two middle values for an even count); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2


def share(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to 4 decimals; ``None`` when there is nothing to divide."""
    return round(part / whole, 4) if whole else None


def split(
    items: Iterable[T],
    kon: Callable[[T], str],
    band: Callable[[T], str],
    measure: Callable[[list[T]], Mapping[str, Any]],
) -> dict[str, Any]:
    """``measure`` of all items, per kön, per age band and per kön × age band (every key present).

    Empty groups are measured too (as zero counts), so two periods always have the same shape.
    """
    rows = list(items)
    by_kon: dict[str, list[T]] = {k: [] for k in KON}
    by_band: dict[str, list[T]] = {b: [] for b in (*AGE_BANDS, UNKNOWN)}
    by_both: dict[str, list[T]] = {f"{k}/{b}": [] for k in KON for b in (*AGE_BANDS, UNKNOWN)}
    for it in rows:
        k, b = kon(it), band(it)
        by_kon[k].append(it)
        by_band[b].append(it)
        by_both[f"{k}/{b}"].append(it)
    return {
        "alla": dict(measure(rows)),
        "kon": {k: dict(measure(v)) for k, v in by_kon.items()},
        "aldersgrupp": {k: dict(measure(v)) for k, v in by_band.items()},
        "kon_aldersgrupp": {k: dict(measure(v)) for k, v in by_both.items()},
    }


def flatten(section: str, splitted: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows ``{avsnitt, grupp, <measures>}`` of a ``split`` result, for tables and CSV."""
    out: list[dict[str, Any]] = [{"avsnitt": section, "grupp": "alla", **splitted["alla"]}]
    for dim in ("kon", "aldersgrupp", "kon_aldersgrupp"):
        for group, measures in splitted[dim].items():
            out.append({"avsnitt": section, "grupp": f"{dim}:{group}", **measures})
    return out
