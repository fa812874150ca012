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


def compare(kl: Sequence[float], ce: Sequence[float]) -> dict[str, Any]:
    """KL minus CE mean test accuracy, a Welch t interval, and a one-line verdict.

    The interval is null with fewer than two runs per loss; when every run of both losses
    scored the same it is the single point.
    """
    a, b = np.asarray(kl, dtype=np.float64), np.asarray(ce, dtype=np.float64)
    difference = float(a.mean() - b.mean())
    low = high = None
    if len(a) > 1 and len(b) > 1:
        va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
        se = math.sqrt(va + vb)
        if se == 0:
            low = high = difference
        else:
            df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
            half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, df)) * se
            low, high = difference - half, difference + half
    return {
        "accuracy_difference": difference,
        "interval_low": low,
        "interval_high": high,
        "confidence": CONFIDENCE,
        "verdict": _verdict(difference, low, high, a, b),
    }


def _points(x: float) -> str:
    return f"{100 * x:+.2f} points"


def _verdict(d: float, low: float | None, high: float | None, a: np.ndarray, b: np.ndarray) -> str:
    if low is None or high is None:
        return (
            f"KL reached {100 * a.mean():.2f}% and cross-entropy {100 * b.mean():.2f}% test "
            "accuracy; with one run per loss there is no interval: run more to compare."
        )
    interval = (
        f"KL - CE = {_points(d)}, {CONFIDENCE:.0%} interval [{_points(low)}, {_points(high)}]"
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
        summary["comparison"] = compare(
            [r["test"]["accuracy"] for r in by_loss["kl"]],
            [r["test"]["accuracy"] for r in by_loss["ce"]],
        )
    return summary
