"""Summaries of an experiment's runs: per-loss means and spreads, and the KL-vs-CE verdict."""

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


def _mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    array = np.asarray(values, dtype=np.float64)
    return float(array.mean()), float(array.std(ddof=1)) if len(array) > 1 else None


def summarize_loss(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean and sample standard deviation (null for one run) of test accuracy and loss."""
    accuracy = [r["test"]["accuracy"] for r in runs]
    loss = [r["test"]["loss"] for r in runs]
    acc_mean, acc_std = _mean_std(accuracy)
    loss_mean, loss_std = _mean_std(loss)
    return {
        "runs": len(runs),
        "test_accuracy_mean": acc_mean,
        "test_accuracy_std": acc_std,
        "test_loss_mean": loss_mean,
        "test_loss_std": loss_std,
    }


def _t_interval(mean: float, se: float, df: float) -> tuple[float, float]:
    if se == 0:
        return mean, mean
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, df)) * se
    return mean - half, mean + half


def paired(kl: Sequence[float], ce: Sequence[float]) -> dict[str, Any]:
    """The mean of the per-run differences KL - CE (run r of both losses starts from the
    same weights and sees the data in the same order) and its paired t interval (n - 1
    degrees of freedom); null with one run, the single point when every difference is the
    same."""
    d = np.asarray(kl, dtype=np.float64) - np.asarray(ce, dtype=np.float64)
    mean = float(d.mean())
    low = high = None
    if len(d) > 1:
        low, high = _t_interval(mean, float(d.std(ddof=1)) / math.sqrt(len(d)), len(d) - 1)
    return {
        "mean_difference": mean,
        "interval_low": low,
        "interval_high": high,
        "confidence": CONFIDENCE,
        "runs": len(d),
        "differences": d.tolist(),
    }


def compare(kl: dict[int, float], ce: dict[int, float]) -> dict[str, Any]:
    """KL minus CE test accuracy, given by run number: the mean difference with Welch's
    unpaired t interval over all runs, and (``paired``, which the verdict uses) the
    differences of the runs both losses finished, with a paired t interval.

    Intervals are null with fewer than two runs (pairs); when every run scored the same
    they are the single point. ``paired`` is null while no run number has both losses.
    """
    a, b = np.fromiter(kl.values(), np.float64), np.fromiter(ce.values(), np.float64)
    difference = float(a.mean() - b.mean())
    low = high = None
    if len(a) > 1 and len(b) > 1:
        va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
        se = math.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se else 1.0
        low, high = _t_interval(difference, se, df)
    both = sorted(kl.keys() & ce.keys())
    pairs = paired([kl[r] for r in both], [ce[r] for r in both]) if both else None
    return {
        "accuracy_difference": difference,
        "interval_low": low,
        "interval_high": high,
        "confidence": CONFIDENCE,
        "paired": pairs,
        "verdict": _verdict(pairs, a, b),
    }


def _points(x: float) -> str:
    return f"{100 * x:+.2f} points"


def _verdict(pairs: dict[str, Any] | None, a: np.ndarray, b: np.ndarray) -> str:
    if pairs is None:
        return "No run has finished with both losses yet."
    low, high, d = pairs["interval_low"], pairs["interval_high"], pairs["mean_difference"]
    if low is None or high is None:
        return (
            f"KL reached {100 * a.mean():.2f}% and cross-entropy {100 * b.mean():.2f}% test "
            "accuracy; with one run per loss there is no interval: run more to compare."
        )
    interval = (
        f"paired KL - CE = {_points(d)} over {pairs['runs']} runs, {CONFIDENCE:.0%} interval "
        f"[{_points(low)}, {_points(high)}]"
    )
    if low <= 0 <= high:
        return (
            f"No clear difference: KL and cross-entropy reach the same test accuracy ({interval})."
        )
    better = "KL" if d > 0 else "Cross-entropy"
    return f"{better} reached a higher test accuracy ({interval})."


def summarize(runs: Sequence[dict[str, Any]], losses: Sequence[str]) -> dict[str, Any]:
    """``{<loss>: summary, ..., "comparison": compare(...) or None}`` over finished runs."""
    by_loss = {loss: [r for r in runs if r["loss"] == loss and r.get("test")] for loss in losses}
    summary: dict[str, Any] = {loss: summarize_loss(rs) for loss, rs in by_loss.items() if rs}
    summary["comparison"] = None
    if by_loss.get("kl") and by_loss.get("ce"):
        kl, ce = ({r["run"]: r["test"]["accuracy"] for r in by_loss[k]} for k in ("kl", "ce"))
        summary["comparison"] = compare(kl, ce)
    return summary
