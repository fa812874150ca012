"""The VAE job's report for people: the three terms of its loss per epoch, a sentence that
reads them, test images beside their reconstructions, and samples from the prior."""

import html
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from service.jobs.report import parameters_table
from service.jobs.schemas import JobRead, VaeSummary
from service.web.pages import png

TERMS = {
    "reconstruction_loss": ("reconstruction NLL", "tab:blue"),
    "kl_loss": ("KL(q(z|x) || N(0, I))", "tab:red"),
    "loss": ("loss = reconstruction + beta_t KL", "black"),
}


def terms_png(runs: list[dict[str, Any]]) -> bytes:
    """Each term per epoch (nats per image), validation solid and training dashed, one
    line per run; the KL on its own axis, as it is far smaller than the others."""
    figure = Figure(figsize=(7, 4.2), dpi=100)
    axes = figure.add_subplot()
    kl_axes = axes.twinx()
    for record in runs:
        history = record["history"]
        for key, (label, colour) in TERMS.items():
            target = kl_axes if key == "kl_loss" else axes
            for prefix, style in (("val_", "-"), ("", "--")):
                values = [float("nan") if v is None else v for v in history.get(prefix + key, [])]
                if values:
                    name = f"{label} ({'validation' if prefix else 'training'})"
                    target.plot(
                        range(1, len(values) + 1),
                        values,
                        style,
                        color=colour,
                        marker="o",
                        markersize=3,
                        label=name if record["run"] == 1 else None,
                    )
    axes.set_title("The VAE's loss and its two terms, per epoch")
    axes.set_xlabel("epoch")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel("nats per image")
    kl_axes.set_ylabel("KL, nats per image", color="tab:red")
    axes.grid(alpha=0.3)
    # One legend for both axes, of the first run's lines (the others are unlabelled).
    lines = [
        x for x in axes.get_lines() + kl_axes.get_lines() if not str(x.get_label()).startswith("_")
    ]
    if lines:
        labels = [str(line.get_label()) for line in lines]
        axes.legend(lines, labels, fontsize=7, loc="center right")
    else:
        axes.text(0.5, 0.5, "no epochs yet", ha="center", va="center", transform=axes.transAxes)
    return png(figure)


def reading(history: dict[str, list[float | None]]) -> str:
    """One sentence on why the total falls while the KL term rises (or does not), from the
    first run's validation curves (training ones when nothing was held out)."""
    prefix = "val_" if history.get("val_loss") else ""
    series = {k: [v for v in history.get(prefix + k, []) if v is not None] for k in TERMS}
    if any(len(values) < 2 for values in series.values()):
        return "The terms need two epochs to be read."
    (r0, r1), (k0, k1), (t0, t1) = ((v[0], v[-1]) for v in series.values())
    betas = history.get("beta") or []
    warm = (
        f" and its weight beta_t grew from {betas[0]:g} to {betas[-1]:g}"
        if betas and betas[0] != betas[-1]
        else ""
    )
    kl = "rose" if k1 > k0 else "fell"
    sentence = (
        f"From epoch 1 to {len(series['loss'])} the reconstruction term fell from {r0:.1f} to "
        f"{r1:.1f} nats per image while the KL term {kl} from {k0:.1f} to {k1:.1f}{warm}: "
    )
    total = f"the total went from {t0:.1f} to {t1:.1f}"
    if k1 <= k0:
        return sentence + f"both terms fell, and {total}."
    bought, spent = r0 - r1, k1 - k0
    if bought > spent:
        return sentence + (
            "the encoder spends information about each image (the KL, in nats) to reconstruct "
            f"it better, and every nat spent bought more than a nat of reconstruction "
            f"({bought:.1f} for {spent:.1f}), so {total}."
        )
    return sentence + (
        f"the KL rose by more nats ({spent:.1f}) than the reconstruction fell ({bought:.1f}); "
        f"{total}, the KL counted at its weight beta_t."
    )


def _summary(job: JobRead) -> str:
    summary = job.results.summary if job.results else None
    if not isinstance(summary, VaeSummary):
        return "<p>No run has finished yet.</p>"
    spread = "" if summary.negative_elbo_std is None else f" ± {summary.negative_elbo_std:.2f}"
    return (
        "<table><tr><th>runs</th><th>test negative ELBO (nats per image)</th>"
        f"<th>bits per dimension</th></tr><tr><td>{summary.runs}</td>"
        f"<td>{summary.negative_elbo_mean:.2f}{spread}</td>"
        f"<td>{summary.bits_per_dim_mean:.4f}</td></tr></table>"
    )


def report_html(job: JobRead, images: dict[str, str]) -> str:
    """A page with the job's state, test scores, the terms' curves and what they say, and
    the pictures in ``images`` (their names)."""
    running = job.status in ("queued", "running")
    refresh = '<meta http-equiv="refresh" content="10">' if running else ""
    state = html.escape(job.status) + (f" — {html.escape(job.error)}" if job.error else "")
    runs = job.results.runs if job.results else []
    sentence = html.escape(reading(runs[0].history)) if runs else "No epoch has finished yet."
    version = job.progress.completed_epochs if job.progress else 0
    pictures = "".join(
        f'<figure><img src="images/{name}.png" alt="{caption}"><figcaption>{caption}'
        "</figcaption></figure>"
        for name, caption in (
            ("reconstructions", "Test images (top) and their reconstructions (bottom)"),
            ("samples", "Samples from the prior: the decoder's means for z ~ N(0, I)"),
        )
        if name in images
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">{refresh}
<title>Job {html.escape(job.id)}: a VAE on CIFAR-10</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; max-width: 60em; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: left; }}
img {{ image-rendering: pixelated; max-width: 100%; }}
</style></head><body>
<h1>A variational autoencoder on CIFAR-10</h1>
<p>Job <code>{html.escape(job.id)}</code>: <span id="status">{state}</span></p>
<h2>Test scores</h2>
{_summary(job)}
<h2>The loss and its terms</h2>
<figure><img src="curves/terms.png?v={version}" alt="The loss and its terms per epoch"
 width="700" height="420"></figure>
<p class="reading">{sentence}</p>
<h2>Pictures</h2>
{pictures or "<p>The pictures come when the last run ends.</p>"}
<h2>Parameters</h2>
{parameters_table(job)}
</body></html>
"""
