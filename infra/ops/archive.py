"""Archive before destroying: what gallring keeps (placements, the research sample) as an
E-ARK CSIP/SIP package, the structure the Swedish FGS Paketstruktur follows (docs/operations.md
"Gallring", the archive package).

A package is a directory (or its zip) with a root ``METS.xml`` (CSIP profile, a ``fileSec``
listing every file with its SHA-256 and size, a ``structMap`` labelled ``CSIP``), one
representation ``representations/rep1`` with its own ``METS.xml`` and the data: one JSON Lines
file per case holding the kept entries as docs/domain.md §4 lines (sealed fields opened), and
``documentation/gallringsplan.json`` (the plan that decided what is kept). Nothing is destroyed
by exporting; producing a package is a disclosure, logged per case (purpose ``arkivering``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from domain.events import CaseEvent
from infra.persistence.access_log import record_access
from infra.persistence.store import CaseStore
from projections.retention import kommun_events, plan_rows

METS_NS = "http://www.loc.gov/METS/"
XLINK_NS = "http://www.w3.org/1999/xlink"
CSIP_NS = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
CSIP_PROFILE = "https://earkcsip.dilcis.eu/profile/E-ARK-CSIP.xml"
SIP_PROFILE = "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
PURPOSE = "arkivering"

ET.register_namespace("mets", METS_NS)
ET.register_namespace("xlink", XLINK_NS)
ET.register_namespace("csip", CSIP_NS)


@dataclass(frozen=True)
class ArchiveResult:
    path: Path
    cases: int
    entries: int
    files: int


def _m(tag: str) -> str:
    return f"{{{METS_NS}}}{tag}"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mets(
    root: Path, files: Iterable[Path], objid: str, *, label: str, profile: str, now: str
) -> ET.Element:
    mets = ET.Element(
        _m("mets"),
        {
            "OBJID": objid,
            "LABEL": label,
            "TYPE": "Other",
            f"{{{CSIP_NS}}}OTHERTYPE": "barnflow personakt",
            "PROFILE": profile,
        },
    )
    hdr = ET.SubElement(mets, _m("metsHdr"), {"CREATEDATE": now, "RECORDSTATUS": "NEW"})
    agent = ET.SubElement(hdr, _m("agent"), {"ROLE": "CREATOR", "TYPE": "OTHER",
                                              "OTHERTYPE": "SOFTWARE"})  # fmt: skip
    ET.SubElement(agent, _m("name")).text = "barnflow"
    file_sec = ET.SubElement(mets, _m("fileSec"), {"ID": "fileSec-1"})
    groups: dict[str, ET.Element] = {}
    struct = ET.SubElement(mets, _m("structMap"), {"TYPE": "PHYSICAL", "LABEL": "CSIP"})
    top = ET.SubElement(struct, _m("div"), {"ID": "div-root", "LABEL": objid})
    for n, f in enumerate(sorted(files), start=1):
        rel = f.relative_to(root).as_posix()
        use = rel.split("/", 1)[0].capitalize()
        grp = groups.get(use)
        if grp is None:
            attrs = {"USE": use, "ID": f"grp-{use}"}
            grp = groups[use] = ET.SubElement(file_sec, _m("fileGrp"), attrs)
        fid = f"file-{n}"
        el = ET.SubElement(
            grp,
            _m("file"),
            {
                "ID": fid,
                "MIMETYPE": "application/xml" if rel.endswith(".xml") else "application/json",
                "SIZE": str(f.stat().st_size),
                "CREATED": now,
                "CHECKSUM": sha256_of(f),
                "CHECKSUMTYPE": "SHA-256",
            },
        )
        ET.SubElement(el, _m("FLocat"), {"LOCTYPE": "URL", f"{{{XLINK_NS}}}type": "simple",
                                        f"{{{XLINK_NS}}}href": rel})  # fmt: skip
    for use in sorted(groups):
        div = ET.SubElement(top, _m("div"), {"LABEL": use})
        ET.SubElement(div, _m("fptr"), {"FILEID": f"grp-{use}"})
    return mets


def _write_mets(path: Path, mets: ET.Element) -> None:
    ET.indent(mets)
    path.write_bytes(ET.tostring(mets, encoding="utf-8", xml_declaration=True))


def export_kept(
    store: CaseStore,
    kommun: str,
    out_dir: Path,
    *,
    as_of: date,
    who: str,
    role: str,
    pseudonym_key: bytes,
    now: datetime | None = None,
) -> ArchiveResult:
    """Write the SIP of everything kept forever in ``kommun`` under ``out_dir/<package id>``."""
    moment = now or datetime.now(UTC)
    stamp = moment.isoformat()
    events = kommun_events(store, kommun)
    rows = plan_rows(events, as_of=as_of, pseudonym_key=pseudonym_key)
    kept_positions = {p for r in rows if r["status"] == "bevaras" for p in r["positions"]}
    by_case: dict[str, list[CaseEvent]] = {}
    for ev in events:
        if ev.position in kept_positions:
            by_case.setdefault(str(ev.case_id), []).append(ev)
    objid = f"barnflow-{kommun}-{as_of.isoformat()}-{uuid.uuid4().hex[:8]}"
    root = out_dir / objid
    data = root / "representations" / "rep1" / "data"
    docs = root / "documentation"
    data.mkdir(parents=True)
    docs.mkdir()
    for cid in sorted(by_case):  # the export is a disclosure of each case's content
        record_access(store, who, role, kommun, cid, PURPOSE, moment)
    entries = 0
    for evs in by_case.values():
        lines = [json.dumps(e.to_json(), ensure_ascii=False, sort_keys=True) for e in evs]
        (data / f"{evs[0].case_ref}.jsonl".replace("/", "_")).write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )
        entries += len(evs)
    kept_rows = [r for r in rows if r["status"] == "bevaras"]
    (docs / "gallringsplan.json").write_text(
        json.dumps(kept_rows, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    rep = root / "representations" / "rep1"
    rep_mets = _mets(
        rep, list(data.iterdir()), f"{objid}-rep1", label="rep1", profile=CSIP_PROFILE, now=stamp
    )
    _write_mets(rep / "METS.xml", rep_mets)
    files = [p for p in root.rglob("*") if p.is_file()]
    label = f"barnflow {kommun} bevaras"
    _write_mets(
        root / "METS.xml", _mets(root, files, objid, label=label, profile=SIP_PROFILE, now=stamp)
    )
    return ArchiveResult(root, len(by_case), entries, len(files) + 1)


def check_package(root: Path) -> list[str]:
    """Structural problems of a package (empty: sound): the CSIP layout, and every file listed
    in the root METS with a matching SHA-256 and size, and no file unlisted."""
    problems: list[str] = []
    mets_path = root / "METS.xml"
    if not mets_path.is_file():
        return ["METS.xml missing"]
    if not (root / "representations").is_dir():
        problems.append("representations/ missing")
    tree = ET.parse(mets_path)  # noqa: S314 - our own file
    listed: dict[str, tuple[str, str]] = {}
    for f in tree.iter(_m("file")):
        loc = f.find(_m("FLocat"))
        href = "" if loc is None else loc.get(f"{{{XLINK_NS}}}href", "")
        listed[href] = (f.get("CHECKSUM", ""), f.get("SIZE", ""))
    if tree.getroot().get("PROFILE") != SIP_PROFILE:
        problems.append("root METS is not an E-ARK SIP")
    if tree.find(f".//{_m('structMap')}[@LABEL='CSIP']") is None:
        problems.append("no structMap labelled CSIP")
    on_disk = {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}
    on_disk.pop("METS.xml")
    for rel, p in sorted(on_disk.items()):
        if rel not in listed:
            problems.append(f"{rel}: not in METS.xml")
        elif listed[rel] != (sha256_of(p), str(p.stat().st_size)):
            problems.append(f"{rel}: checksum or size does not match METS.xml")
    problems += [f"{rel}: listed but missing" for rel in sorted(set(listed) - set(on_disk))]
    return problems
