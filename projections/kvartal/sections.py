"""The sections of the quarterly page, in order: each a builder from a ``Context`` to a
``Section`` (a chart with its tables beneath it). Every figure comes from a registered report
through ``Context.report``, the same document ``barnflow report NAME`` prints, so the page and
the reports never disagree (tests/browser/test_kvartal.py compares them).

To add a section: write a builder ``def name(ctx: Context) -> Section`` reading
``ctx.report(NAME)`` and append it to ``SECTIONS``.

By kön throughout: seed 000 asks for könsuppdelad statistik in every aggregated follow-up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.events import INSATSTYPER, KON
from projections.kvartal import charts
from projections.kvartal.model import Chart, Context, Section, SectionBuilder, Table

KON_LABEL = {"flicka": "Flickor", "pojke": "Pojkar", "annat": "Annat kön", "okant": "Okänt kön"}
INSATS_LABEL = {
    "oppenvard": "Öppenvård",
    "familjebehandling": "Familjebehandling",
    "kontaktperson": "Kontaktperson",
    "kontaktfamilj": "Kontaktfamilj",
    "familjehem": "Familjehem",
    "jourhem": "Jourhem",
    "hvb": "HVB",
    "stodboende": "Stödboende",
}
PLACERING_TYPER = ("familjehem", "jourhem", "hvb", "stodboende")


def num(value: Any) -> str:
    """A figure as a Swedish reader reads it: decimal comma, ``–`` for no value."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.1f}".replace(".", ",")
    return str(value)


def pct(value: float | None) -> str:
    """A share (0..1, four decimals in the reports) as a whole percent."""
    return "–" if value is None else f"{value * 100:.0f} %"


def _kon_rows(
    split: Mapping[str, Any], cells: Sequence[tuple[str, Any]]
) -> tuple[tuple[str, ...], ...]:
    """One row for all, then one per kön, of a report's ``split`` with the given measures."""

    def row(label: str, m: Mapping[str, Any]) -> tuple[str, ...]:
        return (label, *(fmt(m[key]) for key, fmt in cells))

    return (
        row("Alla", split["alla"]),
        *(row(KON_LABEL[k], split["kon"][k]) for k in KON),
    )


def evb(ctx: Context) -> Section:
    """Ej verkställda beslut (IVO): the count per quarter over eight quarters, by kön."""
    quarters = ctx.quarters(8)
    docs = [ctx.report("evb", q) for q in quarters]
    labels = [q.label for q in quarters]
    series = {
        KON_LABEL[k]: [d["summary"]["kon"][k]["antal"] for d in docs]
        for k in KON
        if any(d["summary"]["kon"][k]["antal"] for d in docs) or k in ("flicka", "pojke")
    }
    chart = Chart(
        charts.bars(labels, series, ylabel="beslut", stacked=True),
        f"Ej verkställda beslut per kvartal {labels[0]}–{labels[-1]}, staplat per kön",
    )
    rows = tuple(
        (
            q.label,
            *(str(d["summary"]["alla"][s]) for s in ("antal", "ny", "aterrapport")),
            *(str(d["summary"]["alla"][s]) for s in ("verkstalld", "avslutat")),
            *(str(d["summary"]["kon"][k]["antal"]) for k in KON),
        )
        for q, d in zip(quarters, docs, strict=True)
    )
    table = Table(
        "Rapporterade beslut per kvartal (rader i IVO-rapporten) efter status och kön",
        (
            "kvartal",
            "antal",
            "nya",
            "återrapport",
            "verkställda",
            "avslutade",
            *(KON_LABEL[k].lower() for k in KON),
        ),
        rows,
        ctx.source("evb") + " (varje kvartal)",
    )
    return Section(
        "evb",
        "Ej verkställda gynnande beslut (IVO)",
        "Beslut som inte verkställts inom tre månader och rapporteras till IVO, kvartal för "
        "kvartal: nya, återrapporterade, verkställda och avslutade under kvartalet.",
        chart,
        (table,),
    )


def utredningstider(ctx: Context) -> Section:
    """Utredningar closed in the quarter: lengths against the four-month line, by kön."""
    ext = ctx.report("avslutade-utredningar")["summa"]
    bands = list(ext["langd"])
    # the four-month line (B1) falls between the 91-120 and 121-180 bands
    line_at = bands.index("121-180") - 0.5 if "121-180" in bands else None
    chart = Chart(
        charts.bars(
            [f"{b} d" for b in bands],
            {"Avslutade utredningar": [ext["langd"][b] for b in bands]},
            ylabel="utredningar",
            vline=(line_at, "4 månader") if line_at is not None else None,
            empty="Inga utredningar avslutades under perioden",
        ),
        f"Längd på avslutade utredningar i dagar, {ext['antal']} st, "
        f"{ext['over_4_man']} efter fyramånadersgränsen",
    )
    utr = ctx.report("utredningstider")["utredningar"]
    by_kon = Table(
        "Avslutade utredningar efter kön",
        (
            "grupp",
            "antal",
            "över 4 mån",
            "andel över 4 mån",
            "varav med förlängning",
            "median dagar",
            "p90 dagar",
        ),
        _kon_rows(
            utr,
            (
                ("antal", num),
                ("over_4_man", num),
                ("andel_over_4_man", pct),
                ("over_4_man_med_forlangning", num),
                ("median_dagar", num),
                ("p90_dagar", num),
            ),
        ),
        ctx.source("utredningstider"),
    )
    dist = Table(
        "Fördelning av utredningarnas längd (dagar från inledd till avslutad)",
        ("dagar", *bands),
        (("antal", *(str(ext["langd"][b]) for b in bands)),),
        ctx.source("avslutade-utredningar"),
    )
    return Section(
        "utredningstider",
        "Utredningstider",
        "Utredningar avslutade under perioden, längd i dagar mot fyramånadersgränsen "
        "(SoL 2025:400 20 kap. 3 §, tidigare SoL 2001:453 11 kap. 2 §; över 4 månader räknas "
        "mot utredningens lagstadgade slutdatum).",
        chart,
        (by_kon, dist),
    )


def forhandsbedomning(ctx: Context) -> Section:
    """Förhandsbedömningar within 14 days and skyddsbedömningar the same day, by kön."""
    doc = ctx.report("utredningstider")
    fb, sk = doc["forhandsbedomningar"], doc["skyddsbedomningar"]
    groups = [KON_LABEL[k] for k in KON]
    inom = [fb["kon"][k]["inom_14_dagar"] for k in KON]
    chart = Chart(
        charts.bars(
            groups,
            {
                "Inom 14 dagar": inom,
                "Senare": [fb["kon"][k]["antal"] - i for k, i in zip(KON, inom, strict=True)],
            },
            ylabel="förhandsbedömningar",
            stacked=True,
            horizontal=True,
            empty="Inga förhandsbedömningar under perioden",
        ),
        f"Förhandsbedömningar: {fb['alla']['inom_14_dagar']} av {fb['alla']['antal']} "
        "inom 14 dagar, per kön",
    )
    table = Table(
        "Förhandsbedömningar och skyddsbedömningar efter kön",
        (
            "grupp",
            "förhandsbedömningar",
            "inom 14 dagar",
            "andel inom 14 dagar",
            "anmälningar",
            "skyddsbedömning samma dag",
            "andel samma dag",
        ),
        tuple(
            (*a, *b[1:])
            for a, b in zip(
                _kon_rows(
                    fb,
                    (("antal", num), ("inom_14_dagar", num), ("andel_inom_14_dagar", pct)),
                ),
                _kon_rows(sk, (("antal", num), ("samma_dag", num), ("andel_samma_dag", pct))),
                strict=True,
            )
        ),
        ctx.source("utredningstider"),
    )
    return Section(
        "forhandsbedomning",
        "Förhandsbedömning i tid",
        "Förhandsbedömningar beslutade under perioden: inom 14 dagar från anmälan (SoL 2025:400 "
        "20 kap. 2 §, tidigare 11 kap. 1 a §) eller senare; anmälningar med skyddsbedömning "
        "samma dag.",
        chart,
        (table,),
    )


def verkstallighet(ctx: Context) -> Section:
    """Days from gynnande beslut to verkställighet per insatstyp and kön; those still waiting."""
    doc = ctx.report("verkstallighetstider")
    per = doc["per_insatstyp"]
    used = [t for t in INSATSTYPER if per[t]["alla"]["antal"]] or list(INSATSTYPER[:4])
    kon_used = [k for k in KON if any(per[t]["kon"][k]["antal"] for t in used)] or [
        "flicka",
        "pojke",
    ]
    chart = Chart(
        charts.bars(
            [INSATS_LABEL.get(t, t) for t in used],
            {KON_LABEL[k]: [per[t]["kon"][k]["median_dagar"] for t in used] for k in kon_used},
            ylabel="median dagar till verkställighet",
            horizontal=True,
            empty="Inga gynnande beslut verkställdes under perioden",
        ),
        "Median dagar från beslut till verkställighet per insatstyp och kön",
    )
    rows = []
    for t in INSATSTYPER:
        s = per[t]
        if not s["alla"]["antal"]:
            continue
        for key, m in (("Alla", s["alla"]), *((KON_LABEL[k], s["kon"][k]) for k in KON)):
            if m["antal"] or key == "Alla":
                rows.append(
                    (
                        INSATS_LABEL.get(t, t),
                        key,
                        num(m["antal"]),
                        num(m["median_dagar"]),
                        num(m["p90_dagar"]),
                        num(m["mal_dagar"]),
                        pct(m["andel_inom_mal"]),
                    )
                )
    done = Table(
        "Verkställda gynnande beslut efter insatstyp och kön",
        ("insatstyp", "grupp", "antal", "median dagar", "p90 dagar", "mål dagar", "inom mål"),
        tuple(rows),
        ctx.source("verkstallighetstider"),
    )
    waiting = doc["vantande"]
    wait_rows = tuple(
        (
            INSATS_LABEL.get(t, t),
            *(str(sum(1 for w in waiting if w["insatstyp"] == t and w["kon"] == k)) for k in KON),
            str(sum(1 for w in waiting if w["insatstyp"] == t)),
        )
        for t in INSATSTYPER
        if any(w["insatstyp"] == t for w in waiting)
    )
    vant = Table(
        "Gynnande beslut som väntar på verkställighet vid periodens slut",
        ("insatstyp", *(KON_LABEL[k].lower() for k in KON), "alla"),
        wait_rows,
        ctx.source("verkstallighetstider") + " (vantande)",
    )
    return Section(
        "verkstallighet",
        "Verkställighetstider",
        "Gynnande beslut verkställda under perioden: dagar från beslut till verkställighet per "
        "insatstyp och kön, mot kommunens mål där ett sådant finns.",
        chart,
        (done, vant),
    )


def barnets_rost(ctx: Context) -> Section:
    """Whether the child was heard: per unit (barnchecklista) and by kön (barnets-rost)."""
    check = ctx.report("barnchecklista")
    units = check["per_enhet"]
    names = [u["enhet"] or "okänd enhet" for u in units]
    chart = Chart(
        charts.bars(
            names,
            {
                "Barnet hört": [u["andel_hord"] for u in units],
                "Barnet informerat": [u["andel_informerad"] for u in units],
            },
            ylabel="andel av beslut",
            horizontal=True,
            percent=True,
            empty="Inga beslut under perioden",
        ),
        "Andel beslut där barnet hörts och informerats, per enhet",
    )
    per_unit = Table(
        "Barnets röst per enhet (beslut under perioden)",
        ("enhet", "beslut", "hört", "andel hört", "informerat", "andel informerat"),
        tuple(
            (
                name,
                num(u["antal_beslut"]),
                num(u["hord"]),
                pct(u["andel_hord"]),
                num(u["informerad"]),
                pct(u["andel_informerad"]),
            )
            for name, u in zip(names, units, strict=True)
        ),
        ctx.source("barnchecklista"),
    )
    rost = ctx.report("barnets-rost")
    by_kon = Table(
        "Avslutade utredningar där barnet hörts, och barnenkät till barn 6–17 år, efter kön",
        ("grupp", "utredningar", "barnet hört", "andel hört", "6–17 år", "andel erbjuden enkät"),
        tuple(
            (*a, *b[1:])
            for a, b in zip(
                _kon_rows(
                    rost["utredningar"],
                    (("antal", num), ("barnet_hort", num), ("andel_hort", pct)),
                ),
                _kon_rows(rost["barnenkat"], (("antal_6_17_ar", num), ("andel_erbjuden", pct))),
                strict=True,
            )
        ),
        ctx.source("barnets-rost"),
    )
    return Section(
        "barnets-rost",
        "Barnets röst",
        "För varje beslut under perioden: om barnet hörts och informerats, per enhet; för "
        "avslutade utredningar: om barnet hörts, per kön.",
        chart,
        (per_unit, by_kon),
    )


def placeringar(ctx: Context) -> Section:
    """Placed children: the stock on the last day and the flow in the quarter, by kön."""
    doc = ctx.report("placerade-barn")
    stock, flow = doc["bestand"], doc["flode"]
    kon_used = [k for k in KON if stock["kon"][k]["antal"] or flow["kon"][k]["nya"]] or [
        "flicka",
        "pojke",
    ]
    measures = (
        ("Placerade vid periodens slut", stock, "antal"),
        ("Nya", flow, "nya"),
        ("Avslutade", flow, "avslutade"),
        ("Omplaceringar", flow, "omplaceringar"),
    )
    chart = Chart(
        charts.bars(
            [m[0] for m in measures],
            {KON_LABEL[k]: [m[1]["kon"][k][m[2]] for m in measures] for k in kon_used},
            ylabel="placeringar",
            empty="Inga placeringar under perioden",
        ),
        f"Placeringar: {stock['alla']['antal']} vid periodens slut, {flow['alla']['nya']} nya, "
        f"{flow['alla']['avslutade']} avslutade, per kön",
    )
    bestand = Table(
        "Bestånd vid periodens slut efter placeringsform och kön",
        (
            "grupp",
            "alla",
            *(INSATS_LABEL[t] for t in PLACERING_TYPER),
            "SoL",
            "LVU",
            "median dagar",
        ),
        _kon_rows(
            stock,
            (
                ("antal", num),
                *((t, num) for t in PLACERING_TYPER),
                ("SoL", num),
                ("LVU", num),
                ("median_dagar", num),
            ),
        ),
        ctx.source("placerade-barn"),
    )
    flode = Table(
        "Flöde under perioden efter kön",
        ("grupp", "nya", "avslutade", "omplaceringar", "nya SoL", "nya LVU", "median dagar"),
        _kon_rows(
            flow,
            (
                ("nya", num),
                ("avslutade", num),
                ("omplaceringar", num),
                ("nya_SoL", num),
                ("nya_LVU", num),
                ("median_dagar_avslutade", num),
            ),
        ),
        ctx.source("placerade-barn"),
    )
    return Section(
        "placeringar",
        "Placerade barn: bestånd och flöde",
        "Placeringar (SoL och LVU) som pågår vid periodens slut, och nya, avslutade och "
        "omplaceringar under perioden.",
        chart,
        (bestand, flode),
    )


def klagomal_och_lex_sarah(ctx: Context) -> Section:
    """Complaints answered in time per kategori (klagomal) and the lex Sarah rapporter with
    their frister (lex-sarah): counts only, never a case_ref or free text."""
    kl = ctx.report("klagomal")
    per_kategori = [r for r in kl["rows"] if r["avsnitt"] == "kategori" and r["antal"]]
    alla = next(r for r in kl["rows"] if r["avsnitt"] == "alla")
    names = [r["grupp"] for r in per_kategori]
    chart = Chart(
        charts.bars(
            names,
            {
                "Besvarade i tid": [r["i_tid"] for r in per_kategori],
                "Besvarade sent": [r["sena"] for r in per_kategori],
                "Obesvarade": [r["oppna"] for r in per_kategori],
            },
            ylabel="klagomål",
            stacked=True,
            horizontal=True,
            empty="Inga klagomål under perioden",
        ),
        f"Klagomål under perioden: {alla['antal']}, varav {alla['i_tid']} besvarade inom "
        f"{kl['frist_dagar']} dagar, per kategori",
    )

    def row(label: str, r: Mapping[str, Any]) -> tuple[str, ...]:
        return (
            label,
            num(r["antal"]),
            num(r["besvarade"]),
            num(r["i_tid"]),
            pct(r["andel_i_tid"]),
            num(r["median_dagar"]),
            num(r["oppna"]),
            num(r["forsenade"]),
        )

    complaints = Table(
        f"Synpunkter och klagomål efter kategori (frist {kl['frist_dagar']} dagar)",
        (
            "kategori",
            "inkomna",
            "besvarade",
            "i tid",
            "andel i tid",
            "median dagar",
            "obesvarade",
            "försenade",
        ),
        (row("Alla", alla), *(row(r["grupp"], r) for r in per_kategori)),
        ctx.source("klagomal"),
    )
    ls = ctx.report("lex-sarah")["summary"]
    frister = ls["frister"]
    lex_sarah = Table(
        "Lex Sarah: rapporter under perioden och deras frister",
        ("", "antal", "i tid", "sena", "pågår", "försenade"),
        (
            ("Rapporter", num(ls["antal"]), "", "", num(ls["oppna"]), ""),
            ("Bedömda / allvarliga", f"{ls['bedomda']} / {ls['allvarliga']}", "", "", "", ""),
            ("Anmälda till IVO", num(ls["anmalda_ivo"]), "", "", "", ""),
            *(
                (
                    label,
                    "",
                    num(frister[rule]["i_tid"]),
                    num(frister[rule]["sen"]),
                    num(frister[rule]["oppen"]),
                    num(frister[rule]["forsenad"]),
                )
                for rule, label in (
                    ("LS1", "LS1 utredning påbörjad"),
                    ("LS2", "LS2 bedömning gjord"),
                    ("LS3", "LS3 anmälan till IVO"),
                )
            ),
        ),
        ctx.source("lex-sarah"),
    )
    return Section(
        "klagomal",
        "Klagomål och lex Sarah",
        "Synpunkter och klagomål som kommit in under perioden, besvarade inom kommunens frist; "
        "lex Sarah-rapporter, deras utredning, bedömning och anmälan till IVO.",
        chart,
        (complaints, lex_sarah),
    )


#: The page's sections in order.
SECTIONS: tuple[SectionBuilder, ...] = (
    evb,
    utredningstider,
    forhandsbedomning,
    verkstallighet,
    barnets_rost,
    placeringar,
    klagomal_och_lex_sarah,
)
