"""The project's own spec (docs/domain.md, docs/law.md) covers what the code defines, and every
reference to it resolves inside the repository.

The code is the single definition (event types in ``domain/events.py``, rules in
``domain/rules.py``, guards in ``domain/case.py``, reports in ``projections/reports.py``); these
tests fail when a new id, type, field or report is added without its line in the spec, or when a
comment cites a section the spec does not have. Pure file reads: no servers.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.case import PROCESS_RULES
from domain.events import EVENT_TYPES
from domain.rules import GLOBAL_POLICIES, RULES
from projections.reports import REPORTS

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_DOC = ROOT / "docs" / "domain.md"
LAW_DOC = ROOT / "docs" / "law.md"
#: Guard ids raised outside PROCESS_RULES (the delegationsordning check).
EXTRA_GUARDS = ("DELEG",)
#: The shared spec files that are not in the repository (matched case-sensitively, so the
#: repository's own docs/domain.md and docs/law.md do not match).
SHARED_REF = re.compile(r"\b(?:DOMAIN|LAW)\.md\b|\bLAW §")
SPEC_REF = re.compile(r"docs/(domain|law)\.md §(\d+(?:\.\d+)?)")
TEXT_SUFFIXES = {".py", ".md", ".json", ".toml", ".txt", ".sh", ".yml", ".yaml", ".cfg", ".html"}
SKIP_DIRS = {".git", ".venv", ".barnflow", "node_modules", "__pycache__", ".mypy_cache"}


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _section(text: str, number: int) -> str:
    """The body of ``## <number>.`` up to the next top-level section."""
    match = re.search(rf"^## {number}\. .*?(?=^## \d+\. |\Z)", text, flags=re.M | re.S)
    assert match, f"section §{number} is missing"
    return match.group(0)


def _headings(text: str) -> set[str]:
    """Section numbers a reference may cite: ``## 4. …`` gives 4, ``### 5.2 …`` gives 5.2."""
    found = set(re.findall(r"^## (\d+)\. ", text, flags=re.M))
    found |= set(re.findall(r"^### (\d+\.\d+) ", text, flags=re.M))
    return found


def _table_row(text: str, first_cell: str) -> str | None:
    """The markdown table row whose first cell is ``first_cell`` (``None`` if there is none)."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and cells and cells[0] == first_cell:
            return line
    return None


def _tracked_files() -> Iterator[Path]:
    """The repository's files: ``git ls-files`` in a checkout, else a walk of the tree."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout.decode()
        paths = [ROOT / p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        paths = [
            p
            for p in ROOT.rglob("*")
            if p.is_file() and not SKIP_DIRS.intersection(p.relative_to(ROOT).parts)
        ]
    for path in paths:
        if path.suffix in TEXT_SUFFIXES and path.is_file():
            yield path


def test_every_catalogue_rule_has_a_row_in_law_section_3() -> None:
    catalogue = _section(_read(LAW_DOC), 3)
    missing = [r.id for r in RULES if _table_row(catalogue, r.id) is None]
    assert not missing, f"docs/law.md §3 has no row for {missing}"


def test_every_catalogue_rule_row_names_its_paragraphs() -> None:
    """The row cites the paragraph the code cites, in each version (law.md checks them)."""
    catalogue = _section(_read(LAW_DOC), 3)
    wrong = []
    for r in RULES:
        row = _table_row(catalogue, r.id) or ""
        for ref in (r.old_ref, r.new_ref):
            if ref is None or ref.law == "Lokal regel":
                continue
            # the doc writes ranges with an en dash and may add "st."; compare the § numbers
            wanted = ref.paragraph.replace("-", "–").split(" §")[0]
            if wanted not in row.replace("-", "–"):
                wrong.append((r.id, ref.law, ref.paragraph))
    assert not wrong, f"docs/law.md §3 rows do not cite: {wrong}"


@pytest.mark.parametrize("rule_id", [*PROCESS_RULES, *EXTRA_GUARDS])
def test_every_guard_rule_id_is_specified(rule_id: str) -> None:
    both = _read(DOMAIN_DOC) + _read(LAW_DOC)
    assert re.search(rf"`{re.escape(rule_id)}`", both), f"{rule_id} is in neither doc"
    guards = _section(_read(DOMAIN_DOC), 7)
    assert _table_row(guards, f"`{rule_id}`") is not None, f"docs/domain.md §7 lacks {rule_id}"


def test_every_named_policy_is_explained_in_law_section_5() -> None:
    names = {p.name for r in RULES for p in r.uncertain} | {p.name for p in GLOBAL_POLICIES}
    policies = _section(_read(LAW_DOC), 5)
    missing = sorted(n for n in names if _table_row(policies, f"`{n}`") is None)
    assert not missing, f"docs/law.md §5 has no row for policies {missing}"


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_event_type_is_in_section_4_with_each_field(event_type: str) -> None:
    contract = _section(_read(DOMAIN_DOC), 4)
    row = _table_row(contract, f"`{event_type}`")
    assert row is not None, f"docs/domain.md §4 has no row for {event_type}"
    for name, spec in EVENT_TYPES[event_type].items():
        mark = f"`{name}`" if spec.required else f"`{name}`?"
        assert re.search(re.escape(mark) + (r"(?!\?)" if spec.required else ""), row), (
            f"docs/domain.md §4 {event_type}: field {mark} missing or wrongly marked"
        )
        for choice in spec.choices or ():
            if len(spec.choices or ()) <= 4:
                assert f"`{choice}`" in row, f"{event_type}.{name}: value {choice} missing"


def test_section_4_lists_no_event_type_the_code_does_not_accept() -> None:
    contract = _section(_read(DOMAIN_DOC), 4)
    types = re.search(r"^### 4\.3 .*?(?=^### 4\.9 )", contract, flags=re.M | re.S)
    assert types, "docs/domain.md §4.3-§4.8 (the event types) are missing"
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", types.group(0), flags=re.M))
    assert listed == set(EVENT_TYPES)


def test_every_report_is_in_section_5() -> None:
    reports = _section(_read(DOMAIN_DOC), 5)
    missing = [name for name in REPORTS if f"`{name}`" not in reports]
    assert not missing, f"docs/domain.md §5 lacks reports {missing}"


def test_no_file_outside_docs_cites_the_shared_spec_files() -> None:
    """References go to docs/domain.md and docs/law.md, which are in the repository."""
    me = Path(__file__).resolve()
    offenders = []
    for path in _tracked_files():
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "docs" or path.resolve() == me:
            continue
        for lineno, line in enumerate(_read(path).splitlines(), start=1):
            if SHARED_REF.search(line):
                offenders.append(f"{rel}:{lineno}")
    assert not offenders, f"cite docs/domain.md or docs/law.md instead: {offenders}"


def test_every_spec_section_reference_resolves() -> None:
    """A comment that cites "docs/domain.md §5.2" points at a heading that exists."""
    sections = {"domain": _headings(_read(DOMAIN_DOC)), "law": _headings(_read(LAW_DOC))}
    dangling = []
    for path in _tracked_files():
        for lineno, line in enumerate(_read(path).splitlines(), start=1):
            for doc, number in SPEC_REF.findall(line):
                if number not in sections[doc]:
                    dangling.append(f"{path.relative_to(ROOT)}:{lineno}: docs/{doc}.md §{number}")
    assert not dangling, f"references to sections that do not exist: {dangling}"
