"""Charts for the report, drawn with matplotlib from the report document alone.

Each chart comes with a text alternative (a summary sentence and a line per
subject or week worth naming), so the report can be read without the image.
Nothing here recomputes a verdict: the states of a day or week are read from the
document's deviations, gaps and excepted items.

Images are SVG (the day grids are one raster image inside it, drawn with imshow,
so a year of 300 servers costs the same as a year of two) embedded as data URIs.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from auditpack.wording import Series, number

from .i18n import MONTHS, STRINGS

BACKUP_CONTROL = "T-BAK-1"
COVERAGE_CONTROLS = ("T-AV", "T-FWH")
LOGGING_CONTROL = "T-LOG-2"

# Day and week states, in rising order of precedence: on a day with more than one finding the highest wins.
OK, EXCEPTED, NO_EVIDENCE, DEVIATION = 0, 1, 2, 3
COLOURS = {OK: "#2e7d32", EXCEPTED: "#f2b233", NO_EVIDENCE: "#b8bcc2", DEVIATION: "#c62828"}

WIDTH_IN = 7.2  # the printable width of A4 with the report's margins, so the text is printed at size
MAX_HEIGHT_IN = 8.0  # with its legend, axis and caption a chart still fits an A4 page
MAX_ROW_LABELS = 60  # more rows than this: label every n-th row
MAX_LINES = 25  # text-alternative lines per chart
MAX_DATES = 6  # dates (or date ranges) named per subject in a line
RC = {
    "svg.hashsalt": "auditpack-report",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 9,
    "legend.fontsize": 8,
}


@dataclass(frozen=True)
class Chart:
    control: str  # the control the chart belongs to
    key: str  # backup_calendar | coverage | logging_continuity
    title: str
    summary: str  # the short text alternative (the image's alt text)
    lines: tuple[str, ...]  # the longer text alternative
    more: int  # lines left out of `lines`
    image: str  # data:image/svg+xml;base64,…
    figure: Figure = field(compare=False, repr=False)  # what the image was drawn from: its labels can be measured

    def as_dict(self) -> dict[str, Any]:
        return {
            "control": self.control,
            "key": self.key,
            "title": self.title,
            "summary": self.summary,
            "lines": list(self.lines),
            "more": self.more,
            "image": self.image,
        }


# -- reading the document ------------------------------------------------------------------------


def period_days(document: dict[str, Any]) -> list[date]:
    start, end = date.fromisoformat(document["period"]["start"]), date.fromisoformat(document["period"]["end"])
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _is_gap_code(code: str) -> bool:
    return code.startswith("evidence.")


def day_states(control: dict[str, Any], days: list[date]) -> tuple[list[str], np.ndarray]:
    """The population's subjects and a (subject × day) grid of states; a day without a finding is OK."""
    subjects = list(control["population"]["subjects"])
    row = {s: i for i, s in enumerate(subjects)}
    column = {d.isoformat(): i for i, d in enumerate(days)}
    grid = np.full((len(subjects), len(days)), OK, dtype=np.uint8)
    for findings, state in ((control["excepted"], EXCEPTED), (control["gaps"], NO_EVIDENCE), (control["deviations"], DEVIATION)):
        for f in findings:
            r, c = row.get(f["subject"]), column.get(f["date"])
            if r is not None and c is not None and grid[r, c] < state:
                grid[r, c] = state
    return subjects, grid


def _unevidenced_days(control: dict[str, Any], subjects: list[str], days: list[date]) -> np.ndarray:
    """(subject × day) True where there was no evidence: a gap, or an excepted gap."""
    row = {s: i for i, s in enumerate(subjects)}
    column = {d.isoformat(): i for i, d in enumerate(days)}
    grid = np.zeros((len(subjects), len(days)), dtype=bool)
    for f in [*control["gaps"], *(x for x in control["excepted"] if _is_gap_code(x["code"]))]:
        r, c = row.get(f["subject"]), column.get(f["date"])
        if r is not None and c is not None:
            grid[r, c] = True
    return grid


def week_starts(days: list[date]) -> list[date]:
    """The Mondays of the weeks the period touches."""
    first = days[0] - timedelta(days=days[0].weekday())
    return [first + timedelta(weeks=n) for n in range((days[-1] - first).days // 7 + 1)]


def week_states(control: dict[str, Any], days: list[date]) -> tuple[list[date], np.ndarray, np.ndarray]:
    """Per week: how many subjects of the population were OK, excepted, without evidence, deviating (4 × weeks),
    and whether the control was tested in that week at all (an evidence item collected, or any finding dated)."""
    subjects, grid = day_states(control, days)
    weeks = week_starts(days)
    first_days = [0] + [i for i, d in enumerate(days) if i and d.weekday() == 0]  # each week's first day in the period
    worst = np.maximum.reduceat(grid, first_days, axis=1) if len(subjects) else np.zeros((0, len(weeks)), np.uint8)
    counts = np.stack([(worst == state).sum(axis=0) for state in (OK, EXCEPTED, NO_EVIDENCE, DEVIATION)])
    week_index = {d.isoformat(): (d - weeks[0]).days // 7 for d in days}
    tested = np.zeros(len(weeks), dtype=bool)
    for e in control["evidence"]:
        w = week_index.get((e.get("collected") or "")[:10])
        if w is not None:
            tested[w] = True
    for f in [*control["deviations"], *control["gaps"], *control["excepted"]]:
        w = week_index.get(f["date"])
        if w is not None:
            tested[w] = True
    return weeks, counts, tested


# -- the text alternative ------------------------------------------------------------------------


def _ranges(dates: list[date]) -> list[str]:
    """Dates as 'first – last' runs of consecutive days."""
    out: list[str] = []
    start = prev = None
    for d in sorted(dates):
        if prev is not None and d == prev + timedelta(days=1):
            prev = d
            continue
        if start is not None:
            out.append(start.isoformat() if start == prev else f"{start.isoformat()} – {prev.isoformat()}")
        start = prev = d
    if start is not None:
        out.append(start.isoformat() if start == prev else f"{start.isoformat()} – {prev.isoformat()}")
    return out


def _dates_text(days: list[date], mask: np.ndarray, t: dict[str, str]) -> str:
    picked = [days[i] for i in np.flatnonzero(mask)]
    if not picked:
        return ""
    ranges = _ranges(picked)
    shown = ", ".join(ranges[:MAX_DATES])
    if len(ranges) > MAX_DATES:
        shown += ", " + t["chart_more"].format(count=len(ranges) - MAX_DATES)
    return f" ({shown})"


def _capped(lines: list[str]) -> tuple[tuple[str, ...], int]:
    return tuple(lines[:MAX_LINES]), max(0, len(lines) - MAX_LINES)


# -- drawing -------------------------------------------------------------------------------------


def _svg_data_uri(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", dpi=150, bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(height: float) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, height))
    FigureCanvasAgg(fig)  # the Agg canvas; savefig switches to the SVG backend for the output only
    return fig


def month_labels(starts: list[date], lang: str) -> list[str]:
    """A label per month start; the year goes on a second line where it begins (and on the first), so thirteen
    months fit the page's width without running into each other."""
    return [MONTHS[lang][d.month - 1] + (f"\n{d.year}" if i == 0 or d.month == 1 else "") for i, d in enumerate(starts)]


def _month_ticks(ax: Any, days: list[date], lang: str, x_of_day: Any) -> None:
    starts = [d for d in days if d.day == 1] or [days[0]]
    step = max(1, math.ceil(len(starts) / 13))
    starts = starts[::step]
    ax.set_xticks([x_of_day(d) for d in starts])
    ax.set_xticklabels(month_labels(starts, lang))


def _grid_figure(subjects: list[str], grid: np.ndarray, days: list[date], lang: str, legend: list[tuple[int, str]]) -> Figure:
    n = len(subjects)
    row_in = 0.16 if n <= 40 else max(0.025, 6.0 / n)
    fig = _figure(min(MAX_HEIGHT_IN, 0.9 + n * row_in))
    ax = fig.add_subplot()
    states = [OK, EXCEPTED, NO_EVIDENCE, DEVIATION]
    ax.imshow(
        grid,
        aspect="auto",
        interpolation="nearest",
        cmap=ListedColormap([COLOURS[s] for s in states]),
        vmin=-0.5,
        vmax=len(states) - 0.5,
        extent=(-0.5, len(days) - 0.5, n - 0.5, -0.5),
    )
    step = max(1, math.ceil(n / MAX_ROW_LABELS))
    ax.set_yticks(range(0, n, step))
    ax.set_yticklabels(subjects[::step], fontsize=8 if n <= 40 else 6)
    _month_ticks(ax, days, lang, lambda d: (d - days[0]).days - 0.5)
    ax.tick_params(length=2)
    for spine in ax.spines.values():
        spine.set_linewidth(0.5)
    ax.legend(
        handles=[Patch(facecolor=COLOURS[s], label=label) for s, label in legend],
        loc="lower left",
        bbox_to_anchor=(0, 1.01),
        ncol=len(legend),
        frameon=False,
        borderaxespad=0,
        handlelength=1.2,
    )
    return fig


# -- the charts ----------------------------------------------------------------------------------


def _control(document: dict[str, Any], control_id: str) -> dict[str, Any] | None:
    control = next((c for c in document["controls"] if c["id"] == control_id), None)
    if control is None or not control["population"]["subjects"]:
        return None
    return control


def backup_calendar(document: dict[str, Any]) -> Chart | None:
    """T-BAK-1: succeeded / failed / no evidence / excepted, per server of the population and day of the period."""
    control = _control(document, BACKUP_CONTROL)
    if control is None:
        return None
    lang, t = document["lang"], STRINGS[document["lang"]]
    days = period_days(document)
    subjects, grid = day_states(control, days)
    counts = {s: int((grid == s).sum()) for s in (OK, EXCEPTED, NO_EVIDENCE, DEVIATION)}
    lines, clean = [], 0
    for i, subject in enumerate(subjects):
        row = grid[i]
        if not (row != OK).any():
            clean += 1
            continue
        lines.append(
            t["chart_backup_line"].format(
                subject=subject,
                failure=int((row == DEVIATION).sum()),
                failure_dates=_dates_text(days, row == DEVIATION, t),
                no_evidence=int((row == NO_EVIDENCE).sum()),
                no_evidence_dates=_dates_text(days, row == NO_EVIDENCE, t),
                excepted=int((row == EXCEPTED).sum()),
                excepted_dates=_dates_text(days, row == EXCEPTED, t),
            )
        )
    shown, more = _capped(lines)
    if clean:
        shown += (t["chart_backup_clean"].format(count=clean),)
    summary = t["chart_backup_summary"].format(
        servers=len(subjects),
        days=len(days),
        success=counts[OK],
        failure=counts[DEVIATION],
        no_evidence=counts[NO_EVIDENCE],
        excepted=counts[EXCEPTED],
    )
    with rc_context(RC):
        fig = _grid_figure(
            subjects,
            grid,
            days,
            lang,
            [
                (OK, t["chart_success"]),
                (DEVIATION, t["chart_failure"]),
                (NO_EVIDENCE, t["chart_no_evidence"]),
                (EXCEPTED, t["chart_excepted"]),
            ],
        )
        image = _svg_data_uri(fig)
    return Chart(BACKUP_CONTROL, "backup_calendar", t["chart_backup_title"], summary, shown, more, image, fig)


def coverage(document: dict[str, Any], control_id: str) -> Chart | None:
    """T-AV, T-FWH: per week, the share of the population without a deviation (and without evidence, excepted)."""
    control = _control(document, control_id)
    if control is None:
        return None
    lang, t = document["lang"], STRINGS[document["lang"]]
    days = period_days(document)
    weeks, counts, tested = week_states(control, days)
    total = len(control["population"]["subjects"])
    counts = counts * tested  # a week without any collection or finding is left blank, not counted as compliant
    share = counts / total * 100
    if tested.any():
        lowest = int(np.argmin(np.where(tested, share[0], np.inf)))
        summary = t["chart_coverage_summary"].format(
            subjects=total,
            weeks=int(tested.sum()),
            full=int(((counts[0] == total) & tested).sum()),
            lowest=_pct(share[0][lowest], lang),
            lowest_week=weeks[lowest].isoformat(),
        )
    else:
        summary = t["chart_coverage_none"].format(subjects=total)
    if not tested.all():
        summary += " " + t["chart_coverage_untested"].format(count=int((~tested).sum()))
    # consecutive tested weeks with the same counts, not all compliant, share one line
    lines, w = [], 0
    while w < len(weeks):
        if not tested[w] or counts[0][w] == total:
            w += 1
            continue
        last = w
        while last + 1 < len(weeks) and tested[last + 1] and (counts[:, last + 1] == counts[:, w]).all():
            last += 1
        span = weeks[w].isoformat() if last == w else f"{weeks[w].isoformat()} – {weeks[last].isoformat()}"
        lines.append(
            t["chart_coverage_line"].format(
                weeks=Series(span, last - w + 1),
                compliant=int(counts[0][w]),
                subjects=total,
                excepted=int(counts[1][w]),
                no_evidence=int(counts[2][w]),
                deviation=int(counts[3][w]),
            )
        )
        w = last + 1
    shown, more = _capped(lines)
    with rc_context(RC):
        fig = _figure(2.6)
        ax = fig.add_subplot()
        # a week is drawn from its Monday (or the period's first day) to the next Monday (or the period's end)
        x = [max(0, (w - days[0]).days) for w in weeks] + [len(days)]
        ys = [np.append(share[s], share[s][-1]) for s in (OK, EXCEPTED, NO_EVIDENCE, DEVIATION)]
        labels = [t["chart_compliant"], t["chart_excepted"], t["chart_no_evidence"], t["chart_deviation"]]
        ax.stackplot(
            x, ys, step="post", colors=[COLOURS[s] for s in (OK, EXCEPTED, NO_EVIDENCE, DEVIATION)], labels=labels, linewidth=0
        )
        ax.set_xlim(0, len(days))
        ax.set_ylim(0, 100)
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.set_ylabel(t["chart_share"] + " (%)")
        _month_ticks(ax, days, lang, lambda d: (d - days[0]).days)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncol=4, frameon=False, borderaxespad=0, handlelength=1.2)
        for spine in ax.spines.values():
            spine.set_linewidth(0.5)
        image = _svg_data_uri(fig)
    title = t["chart_coverage_title"].format(control=f"{control['id']} · {control['title']}")
    return Chart(control_id, "coverage", title, summary, shown, more, image, fig)


def logging_continuity(document: dict[str, Any]) -> Chart | None:
    """T-LOG-2: per server, the days with evidence of the Security log and the days without."""
    control = _control(document, LOGGING_CONTROL)
    if control is None:
        return None
    lang, t = document["lang"], STRINGS[document["lang"]]
    days = period_days(document)
    subjects, grid = day_states(control, days)
    without = _unevidenced_days(control, subjects, days)
    lines = []
    for i, subject in enumerate(subjects):
        missing = without[i]
        lines.append(
            t["chart_logging_line"].format(
                subject=subject,
                with_evidence=int((~missing).sum()),
                deviation=int(((grid[i] == DEVIATION) & ~missing).sum()),
                without=int(missing.sum()),
                without_dates=_dates_text(days, missing, t),
            )
        )
    shown, more = _capped(lines)
    summary = t["chart_logging_summary"].format(
        servers=len(subjects), days=len(days), with_evidence=int((~without).sum()), without=int(without.sum())
    )
    with rc_context(RC):
        fig = _grid_figure(
            subjects,
            grid,
            days,
            lang,
            [
                (OK, t["chart_logged"]),
                (DEVIATION, t["chart_log_deviation"]),
                (NO_EVIDENCE, t["chart_no_evidence"]),
                (EXCEPTED, t["chart_excepted"]),
            ],
        )
        image = _svg_data_uri(fig)
    return Chart(LOGGING_CONTROL, "logging_continuity", t["chart_logging_title"], summary, shown, more, image, fig)


def _pct(value: float, lang: str) -> str:
    return number(round(float(value), 1), lang)


def report_charts(document: dict[str, Any]) -> dict[str, list[Chart]]:
    """Every chart the document supports, by control id; a control that is absent or has no population has none."""
    charts = [backup_calendar(document), *(coverage(document, c) for c in COVERAGE_CONTROLS), logging_continuity(document)]
    by_control: dict[str, list[Chart]] = {}
    for chart in charts:
        if chart is not None:
            by_control.setdefault(chart.control, []).append(chart)
    return by_control
