"""Charts for the HTML report, drawn by matplotlib as inline SVG.

Inline SVG keeps the page one self-contained file that reads offline and stays
sharp when zoomed. Only the object API (`Figure`) is used: no pyplot state and
no GUI backend, so it is safe in Airflow workers and threads.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from matplotlib.typing import RcKeyType

_STYLE: dict[RcKeyType, Any] = {
    # Each chart gets its own salt so element ids stay unique across the page's SVGs.
    "svg.fonttype": "none",  # text stays text: smaller, searchable, selectable
    "text.parse_math": False,  # a "$" in a name must not start mathtext
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 9,
}


def _to_svg(fig: Figure, name: str) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context({**_STYLE, "svg.hashsalt": name}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # drop the XML prolog and DOCTYPE: invalid inside HTML


def trend_chart(
    series: dict[str, dict[date, int]], weeks: Sequence[date], *, name: str, ylabel: str
) -> str:
    """One line per subtopic over the given weeks (missing weeks count as zero)."""
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(9, 4.2))
        ax = fig.add_subplot()
        colors = matplotlib.colormaps["tab20"].colors  # type: ignore[attr-defined]
        x = list(range(len(weeks)))
        # A subtopic keeps its colour from chart to chart and week to week.
        color_of = {subtopic: colors[i % len(colors)] for i, subtopic in enumerate(sorted(series))}
        for subtopic in sorted(series, key=lambda s: (-sum(series[s].values()), s)):
            ax.plot(
                x,
                [series[subtopic].get(w, 0) for w in weeks],
                marker="o",
                markersize=3,
                linewidth=1.5,
                color=color_of[subtopic],
                label=subtopic,
            )
        ax.set_xticks(x, [f"W{w.isocalendar()[1]:02d}" for w in weeks])
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    return _to_svg(fig, name)


def ranked_bar_chart(
    labels: Sequence[str], values: Sequence[int], *, name: str, xlabel: str
) -> str:
    """Horizontal bars, largest on top."""
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(7, 0.6 + 0.32 * max(len(labels), 1)))
        ax = fig.add_subplot()
        positions = list(range(len(labels)))
        ax.barh(positions, values, color="#3b6ea5")
        ax.set_yticks(positions, list(labels))
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="x", alpha=0.3)
        for y, value in zip(positions, values, strict=True):
            ax.text(value, y, f" {value}", va="center", fontsize=8)
    return _to_svg(fig, name)
