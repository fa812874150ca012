"""The drift report for people: an HTML page and one picture per column (matplotlib).

Column names and category labels are user input: the page escapes them everywhere, and the
pictures draw them as plain text (no mathtext, so a ``$`` is a dollar sign).
"""

import html
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from service.web.pages import png

COLOURS = {"reference": "tab:blue", "current": "tab:orange"}
MAX_BARS = 30  # categorical pictures: the largest 29 labels, then one "other" bar
UNSEEN_SHOWN = 5  # unseen categories named in the table, then "and N more"
LABEL_CHARACTERS = 24  # longer labels are cut, so the axis stays readable


def _number(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def _percent(share: float) -> str:
    return f"{100 * share:.1f}".rstrip("0").rstrip(".") + "%"


def _score(column: dict[str, Any]) -> str:
    # JSON has no Infinity: the stored record says score None, finite False.
    if column["score"] is None:
        return "infinite"
    return f"{column['score']:.4g}"


def _unseen(column: dict[str, Any]) -> str:
    """Unseen categories (the first few with their counts), or for a numeric column the
    share of rows outside the reference range."""
    if column["kind"] != "categorical":
        share = column.get("outside_share", 0.0)
        return f"{_percent(share)} of rows outside the reference range" if share else "none"
    unseen = column.get("unseen") or []
    if not unseen:
        return "none"
    named = ", ".join(f"{html.escape(u['category'])} ({u['count']})" for u in unseen[:UNSEEN_SHOWN])
    more = f", and {len(unseen) - UNSEEN_SHOWN} more" if len(unseen) > UNSEEN_SHOWN else ""
    share = _percent(column.get("unseen_share", 0.0))
    return f"{len(unseen)} ({share} of rows): {named}{more}"


def _row(index: int, name: str, column: dict[str, Any]) -> str:
    drifted = column["drifted"]
    mark = "<td class='yes'>drifted</td>" if drifted else "<td class='no'>no</td>"
    unit = html.escape(column.get("unit") or "")
    row_class = " class='drifted'" if drifted else ""
    return (
        f"<tr{row_class}>"
        f"<td><a href='#column-{index}'>{html.escape(name)}</a></td>"
        f"<td>{html.escape(column['kind'])}</td><td>{html.escape(column['method'])}</td>"
        f"<td>{_score(column)} <small>{unit}</small></td>"
        f"<td>{_number(column['threshold'])}</td>{mark}"
        f"<td>{_number(column.get('p_value'), 3)}</td><td>{_unseen(column)}</td></tr>"
    )


def _verdict(dataset: dict[str, Any]) -> str:
    counted = (
        f"{dataset['drifted_columns']} of {dataset['columns']} columns drifted "
        f"({_percent(dataset['drifted_share'])})"
    )
    rule = f"the share of {_percent(dataset['drift_share'])} that marks the dataset as drifted"
    if dataset["drift"]:
        return f"<p class='verdict yes'>Dataset drift: {counted}, at or above {rule}.</p>"
    return f"<p class='verdict no'>No dataset drift: {counted}, below {rule}.</p>"


def report_html(drift: dict[str, Any], *, picture_url: Callable[[str], str]) -> str:
    """The page of a stored drift record: profile, time, the dataset's verdict in words, a
    table of columns and a picture per column. ``picture_url(name)`` returns a URL already
    quoted for a path; it is escaped here only as an attribute value."""
    columns: dict[str, dict[str, Any]] = drift["columns"]
    profile = html.escape(str(drift.get("profile_name") or drift.get("profile_id") or ""))
    rows = "".join(_row(i, name, c) for i, (name, c) in enumerate(columns.items()))
    sections = "".join(
        f"<section id='column-{i}'><h3>{html.escape(name)}"
        f"{' — drifted' if c['drifted'] else ''}</h3>"
        f"<p>{c.get('rows', 'n/a')} current rows; {html.escape(c['method'])} "
        f"{_score(c)} {html.escape(c.get('unit') or '')}, threshold "
        f"{_number(c['threshold'])}.</p>"
        f'<figure><img src="{html.escape(picture_url(name))}" '
        f'alt="Reference and current distributions of {html.escape(name)}" '
        f'width="700" height="420"></figure></section>'
        for i, (name, c) in enumerate(columns.items())
    )
    ignored = drift.get("ignored") or []
    ignored_note = (
        "<p>Columns not in the profile, ignored: "
        + ", ".join(f"<code>{html.escape(n)}</code>" for n in ignored)
        + ".</p>"
        if ignored
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Drift against profile {profile}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; max-width: 60em; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: left; }}
.verdict {{ font-weight: bold; }}
.yes {{ color: #b00020; font-weight: bold; }}
tr.drifted {{ background: #fde8e8; }}
</style></head><body>
<h1>Drift against profile {profile}</h1>
<p>Check <code>{html.escape(str(drift.get("id", "")))}</code> of profile
<code>{html.escape(str(drift.get("profile_id", "")))}</code>,
made {html.escape(str(drift.get("created_at", "")))}.</p>
{_verdict(drift["dataset"])}
<h2>Columns</h2>
<table><tr><th>column</th><th>kind</th><th>method</th><th>score</th><th>threshold</th>
<th>drifted</th><th>p-value</th><th>unseen</th></tr>{rows}</table>
<p>A column drifts when its score is at or above its threshold. The p-value (chi-square
test of homogeneity over the same cells) is for information only: with many rows it
rejects for tiny changes.</p>
{ignored_note}
<h2>Distributions</h2>
{sections}
</body></html>
"""


def _shares(counts: list[int]) -> np.ndarray:
    values = np.asarray(counts, dtype=float)
    return values / max(values.sum(), 1.0)


def _short(label: str, limit: int = LABEL_CHARACTERS) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _bars(
    axes: Axes, labels: list[str], reference: np.ndarray, current: np.ndarray, unseen: np.ndarray
) -> None:
    """Side-by-side bars of shares; the largest MAX_BARS - 1 labels (by the larger of the
    two shares) in their order, the rest summed as one "other" bar."""
    if len(labels) > MAX_BARS:
        keep = np.sort(np.argsort(-np.maximum(reference, current), kind="stable")[: MAX_BARS - 1])
        rest = np.setdiff1d(np.arange(len(labels)), keep)
        labels = [labels[i] for i in keep] + [f"other ({len(rest)} labels)"]
        reference = np.append(reference[keep], reference[rest].sum())
        current = np.append(current[keep], current[rest].sum())
        unseen = np.append(unseen[keep], False)
    positions = np.arange(len(labels))
    axes.bar(positions - 0.2, reference, 0.4, color=COLOURS["reference"], label="reference")
    bars = axes.bar(positions + 0.2, current, 0.4, color=COLOURS["current"], label="current")
    for bar, new in zip(bars, unseen, strict=True):
        if new:
            bar.set_hatch("//")
            bar.set_edgecolor("black")
    axes.set_xticks(
        positions,
        [
            _short(label) + (" (unseen)" if new else "")
            for label, new in zip(labels, unseen, strict=True)
        ],
        rotation=45 if len(labels) > 6 else 0,
        ha="right" if len(labels) > 6 else "center",
        parse_math=False,
    )
    axes.set_ylabel("share of rows")


def _numeric(axes: Axes, column: dict[str, Any]) -> None:
    """Step densities over the reference bins (share / width); the current's rows below
    the reference minimum or above its maximum are told in a note under the axis. Bins of zero width
    (a constant reference, edges [v, v]) have no density: bars of shares instead."""
    edges = np.asarray(column["edges"], dtype=float)
    reference = _shares(column["cells"]["reference"])
    current = _shares(column["cells"]["current"])
    below, above = current[0], current[-1]
    widths = np.diff(edges)
    if (widths <= 0).any():
        inner = [f"{a:g}" if a == b else f"{a:g} to {b:g}" for a, b in itertools.pairwise(edges)]
        labels = [f"below {edges[0]:g}", *inner, f"above {edges[-1]:g}"]
        _bars(axes, labels, reference, current, np.zeros(len(labels), dtype=bool))
        return
    density = {"reference": reference[1:-1] / widths, "current": current[1:-1] / widths}
    for role, values in density.items():
        axes.stairs(values, edges, color=COLOURS[role], linewidth=2.5, label=role)
    axes.stairs(density["reference"], edges, color=COLOURS["reference"], alpha=0.15, fill=True)
    # A note under the axis rather than in the legend, so the legend stays small enough
    # to find an empty corner.
    axes.set_xlabel(
        f"current rows outside the reference range: {_percent(below)} below, "
        f"{_percent(above)} above"
    )
    axes.set_ylabel("share of rows per unit")


def column_png(name: str, column: dict[str, Any]) -> bytes:
    """Reference and current distributions of one column's drift, as a PNG: numeric as
    step densities over the reference bins, categorical as bars of shares per label with
    unseen labels hatched and named "(unseen)". Reference tab:blue, current tab:orange."""
    figure = Figure(figsize=(7, 4.2), dpi=100)
    axes = figure.add_subplot()
    if column["kind"] == "categorical":
        reference = _shares(column["cells"]["reference"])
        unseen = np.asarray(column["cells"]["reference"]) == 0
        _bars(axes, list(column["labels"]), reference, _shares(column["cells"]["current"]), unseen)
    else:
        _numeric(axes, column)
    verdict = "drifted" if column["drifted"] else "no drift"
    axes.set_title(
        f"{_short(name, 60)}: {column['method']} {_score(column)} ({verdict})", parse_math=False
    )
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    return png(figure)
