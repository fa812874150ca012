"""The job report for people: an HTML page and learning-curve pictures (matplotlib)."""

import html
import io
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from service.jobs.schemas import JobRead

METRICS = {
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
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _number(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{100 * value:.2f}%" if percent else f"{value:.4f}"


def _summary_rows(job: JobRead) -> str:
    summary = job.results.summary if job.results else None
    if summary is None:
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
    verdict = (
        f"<p class='verdict'>{html.escape(summary.comparison.verdict)}</p>"
        if summary.comparison
        else ""
    )
    return (
        "<table><tr><th>loss</th><th>runs</th><th>test accuracy (mean ± std)</th>"
        "<th>test loss (mean ± std)</th></tr>" + "".join(rows) + "</table>" + verdict
    )


def report_html(job: JobRead) -> str:
    """A page with the job's parameters, state, summary table and learning curves."""
    running = job.status in ("queued", "running")
    refresh = '<meta http-equiv="refresh" content="10">' if running else ""
    params = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
        for k, v in job.parameters.items()
    )
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
        for m in ("val_accuracy", "val_loss")
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
<table>{params}</table>
</body></html>
"""
