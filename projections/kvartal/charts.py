"""Charts of the quarterly page, drawn by matplotlib (Agg, SVG out) and never by hand.

Each chart is its own ``Figure`` (no pyplot state); the style is matplotlib's global rcParams,
set for the drawing under one lock, so pages may be drawn in threads (the API does). The SVG is
deterministic for the same figures: text as paths (``svg.fonttype`` path, the same glyphs in a
browser and in the PDF without a font to fetch), a fixed ``svg.hashsalt`` and no date in the
metadata. Colours are Okabe-Ito (readable with colour blindness), kön in a fixed order.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib import ticker
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.typing import RcKeyType

RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "path",
    "svg.hashsalt": "barnflow-kvartal",
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
PALETTE = ("#E69F00", "#0072B2", "#009E73", "#999999", "#CC79A7", "#56B4E9", "#D55E00")
WIDTH, HEIGHT = 7.2, 2.9  # inches: an A4 column with margins
_STYLE = threading.Lock()  # rc_context changes process-wide rcParams


def _svg(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buf.getvalue()


def bars(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    ylabel: str,
    stacked: bool = False,
    horizontal: bool = False,
    percent: bool = False,
    vline: tuple[float, str] | None = None,
    empty: str = "Inga uppgifter under perioden",
) -> bytes:
    """Bars per category, one colour per series (stacked or side by side), as SVG bytes.

    ``vline`` draws a dashed reference line at a category position (e.g. the four-month line
    between two length bands) with its label; ``None`` values are drawn as no bar.
    """
    with _STYLE, matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH, HEIGHT))
        ax = fig.add_subplot()
        n = max(len(series), 1)
        width = 0.8 if stacked else 0.8 / n
        bottoms = [0.0] * len(categories)
        total = 0.0
        for i, (label, values) in enumerate(series.items()):
            vals = [float(v) if v is not None else 0.0 for v in values]
            total += sum(vals)
            pos = [c if stacked else c - 0.4 + width * (i + 0.5) for c in range(len(categories))]
            colour = PALETTE[i % len(PALETTE)]
            if horizontal:
                ax.barh(
                    pos,
                    vals,
                    height=width,
                    left=bottoms if stacked else None,
                    color=colour,
                    label=label,
                )
            else:
                ax.bar(
                    pos,
                    vals,
                    width=width,
                    bottom=bottoms if stacked else None,
                    color=colour,
                    label=label,
                )
            if stacked:
                bottoms = [b + v for b, v in zip(bottoms, vals, strict=True)]
        ticks = list(range(len(categories)))
        if horizontal:
            ax.set_yticks(ticks, list(categories))
            ax.invert_yaxis()
            ax.set_xlabel(ylabel)
            value_axis: Axis = ax.xaxis
        else:
            ax.set_xticks(ticks, list(categories))
            ax.set_ylabel(ylabel)
            value_axis = ax.yaxis
            if max((len(c) for c in categories), default=0) > 8:
                ax.tick_params(axis="x", labelrotation=20)
        if percent:
            (ax.set_xlim if horizontal else ax.set_ylim)(0, 1)
            value_axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v * 100:.0f} %"))
        else:
            value_axis.set_major_locator(ticker.MaxNLocator(integer=True))
        if vline is not None:
            pos_line, text = vline
            if horizontal:
                ax.axhline(pos_line, color="#D55E00", linestyle="--", linewidth=1.2)
            else:
                ax.axvline(pos_line, color="#D55E00", linestyle="--", linewidth=1.2)
                ax.annotate(
                    text,
                    (pos_line, 1.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(4, 3),
                    textcoords="offset points",
                    color="#D55E00",
                    va="bottom",
                    annotation_clip=False,
                )
        if total == 0:  # no bar: say so instead of an axis around nothing
            (ax.set_xlim if horizontal else ax.set_ylim)(0, 1)
            value_axis.set_ticks([])
            ax.text(0.5, 0.5, empty, transform=ax.transAxes, ha="center", va="center")
        if series:
            ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return _svg(fig)
