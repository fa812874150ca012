"""The job report for people: an HTML page and learning-curve pictures (matplotlib)."""

import html
import warnings
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from service.jobs.schemas import ExperimentSummary, JobRead
from service.web.pages import png

METRICS = {
    "val_accuracy_difference": "Validation accuracy, KL minus CE",
    "val_accuracy": "Validation accuracy",
    "val_loss": "Validation loss",
    "accuracy": "Training accuracy",
    "loss": "Training loss",
}
COLOURS = {"kl": "tab:blue", "ce": "tab:orange"}
LINE_STYLES = ("-", "--", ":", "-.")
# KL is drawn wide and pale under CE, so curves that coincide stay visible as both.
WIDTHS: dict[str, dict[str, float]] = {"kl": {"linewidth": 5, "alpha": 0.45}}


def curves_png(runs: list[dict[str, Any]], metric: str) -> bytes:
    """``metric`` per epoch, one line per run: each loss a colour, each run a line style."""
    figure = Figure(figsize=(7, 4.2), dpi=100)
    axes = figure.add_subplot()
    for record in runs:
        values = record["history"].get(metric) or []
        if not values:
            continue
        style = LINE_STYLES[(record["run"] - 1) % len(LINE_STYLES)]
        axes.plot(
            range(1, len(values) + 1),
            [v if v is not None else float("nan") for v in values],
            style,
            color=COLOURS.get(record["loss"], "tab:gray"),
            marker="o",
            markersize=3,
            label=f"{record['loss'].upper()} run {record['run']}",
        )
    axes.set_title(METRICS.get(metric, metric))
    axes.set_xlabel("epoch")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel(metric)
    axes.grid(alpha=0.3)
    if axes.lines:
        axes.legend()
    else:
        axes.text(0.5, 0.5, "no epochs yet", ha="center", va="center", transform=axes.transAxes)
    return png(figure)


def difference_png(runs: list[dict[str, Any]]) -> bytes:
    """Validation accuracy of KL minus CE per epoch, the mean over the runs both losses
    reached that epoch in (run r of each loss is a pair), each run's as a thin line."""
    by_run: dict[int, dict[str, list[float | None]]] = {}
    for record in runs:
        by_run.setdefault(record["run"], {})[record["loss"]] = (
            record["history"].get("val_accuracy") or []
        )
    curves = [
        [
            np.nan if k is None or c is None else 100 * (k - c)
            for k, c in zip(p["kl"], p["ce"], strict=False)
        ]
        for p in by_run.values()
        if p.get("kl") and p.get("ce")
    ]
    figure = Figure(figsize=(7, 4.2), dpi=100)
    axes = figure.add_subplot()
    axes.axhline(0, color="black", linewidth=0.8)
    for curve in curves:
        axes.plot(range(1, len(curve) + 1), curve, color="tab:purple", alpha=0.35, linewidth=1)
    if curves:
        epochs = max(map(len, curves))
        table = np.full((len(curves), epochs), np.nan)
        for i, curve in enumerate(curves):
            table[i, : len(curve)] = curve
        with warnings.catch_warnings():  # an epoch no pair reached: an empty mean, NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(table, axis=0)
        axes.plot(
            range(1, epochs + 1),
            mean,
            color="tab:purple",
            marker="o",
            markersize=3,
            linewidth=2.5,
            label=f"mean over {len(curves)} paired runs",
        )
        axes.legend()
    else:
        axes.text(
            0.5, 0.5, "no paired runs yet", ha="center", va="center", transform=axes.transAxes
        )
    axes.set_title("Validation accuracy, KL minus CE (percentage points)")
    axes.set_xlabel("epoch")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel("KL - CE (points)")
    axes.grid(alpha=0.3)
    return png(figure)


def _number(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{100 * value:.2f}%" if percent else f"{value:.4f}"


def _summary_rows(job: JobRead) -> str:
    summary = job.results.summary if job.results else None
    if not isinstance(summary, ExperimentSummary):
        return "<p>No run has finished yet.</p>"
    rows = []
    for loss in ("kl", "ce"):
        s = getattr(summary, loss)
        if s is not None:
            rows.append(
                f"<tr><td>{loss.upper()}</td><td>{s.runs}</td>"
                f"<td>{_number(s.test_accuracy_mean, True)} ± "
                f"{_number(s.test_accuracy_std, True)}</td>"
                f"<td>{_number(s.test_loss_mean)} ± {_number(s.test_loss_std)}</td></tr>"
            )
    verdict = ""
    if (comparison := summary.comparison) is not None:
        verdict = f"<p class='verdict'>{html.escape(comparison.verdict)}</p>"
        pairs = comparison.paired
        rows_of = [
            (
                "paired (run r of each loss)",
                pairs.mean_difference,
                pairs.interval_low,
                pairs.interval_high,
            )
            if pairs
            else None,
            (
                "unpaired (Welch)",
                comparison.accuracy_difference,
                comparison.interval_low,
                comparison.interval_high,
            ),
        ]
        verdict += (
            f"<table><tr><th>KL &minus; CE test accuracy</th><th>difference</th>"
            f"<th>{comparison.confidence:.0%} interval</th></tr>"
            + "".join(
                f"<tr><td>{name}</td><td>{_points(d)}</td>"
                f"<td>[{_points(low)}, {_points(high)}]</td></tr>"
                for name, d, low, high in filter(None, rows_of)
            )
            + "</table>"
        )
    return (
        "<table><tr><th>loss</th><th>runs</th><th>test accuracy (mean ± std)</th>"
        "<th>test loss (mean ± std)</th></tr>" + "".join(rows) + "</table>" + verdict
    )


def _points(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:+.2f} points"


def parameters_table(job: JobRead) -> str:
    """The job's parameters, then the devices it trained on once training has started."""
    rows = [*job.parameters.items()]
    if job.results and job.results.devices:
        rows.append(("trained on", ", ".join(job.results.devices)))
    cells = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows
    )
    return f"<table>{cells}</table>"


def report_html(job: JobRead) -> str:
    """A page with the job's parameters, state, summary table and learning curves."""
    running = job.status in ("queued", "running")
    refresh = '<meta http-equiv="refresh" content="10">' if running else ""
    state = html.escape(job.status)
    if job.progress and job.status == "running":
        p = job.progress
        state += (
            f" — {p.loss.upper()} run {p.run}/{p.runs}, epoch {p.epoch}/{p.epochs}, "
            f"{100 * p.fraction:.0f}% done, about {p.eta_seconds:.0f} s left"
        )
    if job.error:
        state += f" — {html.escape(job.error)}"
    version = job.progress.completed_epochs if job.progress else 0
    images = "".join(
        f'<figure><img src="curves/{m}.png?v={version}" '
        f'alt="{METRICS[m]} per epoch" width="700" height="420"></figure>'
        for m in ("val_accuracy", "val_loss", "val_accuracy_difference")
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">{refresh}
<title>Job {html.escape(job.id)}: KL vs cross-entropy on CIFAR-10</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; max-width: 60em; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: left; }}
.verdict {{ font-weight: bold; }}
</style></head><body>
<h1>KL divergence vs cross-entropy on CIFAR-10</h1>
<p>Job <code>{html.escape(job.id)}</code>: <span id="status">{state}</span></p>
<h2>Summary</h2>
{_summary_rows(job)}
<h2>Learning curves</h2>
{images}
<h2>Parameters</h2>
{parameters_table(job)}
</body></html>
"""
