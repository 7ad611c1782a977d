"""The README's "How it is built" block names every package and infra subpackage that exists,
and nothing that does not: a newcomer reading it finds the tree it describes.

Pure file reads: no servers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOP = ("domain", "workflows", "activities", "projections", "infra", "tests", "bench", "docs")


def _layout_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## How it is built", 1)[1]
    return section.split("```", 2)[1]


def _named() -> tuple[set[str], set[str]]:
    """(top-level folders, infra entries) named at the start of a line of the block."""
    top: set[str] = set()
    infra: set[str] = set()
    for line in _layout_block().splitlines():
        if m := re.match(r"^([a-z_]+)/\s", line):
            top.add(m.group(1))
        elif m := re.match(r"^  ([a-z_]+(?:/|\.py))\s", line):
            infra.add(m.group(1))
    return top, infra


def _infra_entries() -> set[str]:
    out: set[str] = set()
    for p in (ROOT / "infra").iterdir():
        if p.is_dir() and (p / "__init__.py").exists():
            out.add(p.name + "/")
        elif p.suffix == ".py" and p.name != "__init__.py":
            out.add(p.name)
    return out


def test_every_top_level_package_is_in_the_layout() -> None:
    top, _ = _named()
    missing = [d for d in TOP if d not in top]
    assert not missing, f"README 'How it is built' does not name: {missing}"
    ghosts = [d for d in top if not (ROOT / d).is_dir()]
    assert not ghosts, f"README names folders that do not exist: {ghosts}"


def test_the_infra_lines_match_the_infra_tree() -> None:
    _, named = _named()
    actual = _infra_entries()
    assert named == actual, (
        f"README lists {sorted(named - actual)} that infra/ lacks, "
        f"and infra/ has {sorted(actual - named)} that README does not list"
    )


@pytest.mark.parametrize("package", ["domain", "workflows", "activities", "projections"])
def test_top_level_packages_are_flat_or_listed(package: str) -> None:
    """A new subpackage anywhere but infra/ gets its line in the block (domain/frister/ …)."""
    block = _layout_block()
    for sub in (ROOT / package).iterdir():
        if sub.is_dir() and (sub / "__init__.py").exists():
            assert f"{package}/{sub.name}" in block or f"  {sub.name}/" in block, (
                f"{package}/{sub.name}/ is not described in README 'How it is built'"
            )
