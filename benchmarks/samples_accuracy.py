"""Accuracy of the kNN KL estimate and coverage of its subsampling interval, on Gaussian
pairs whose KL is known, in process (the functions ``POST /samples/divergences/kl``
runs with ``method: "knn"``).

P = N(0, I_d) and Q = N(mu 1, s^2 I_d), KL = d/2 (1/s^2 + mu^2/s^2 - 1 + 2 log s), for
d = 1, 2, 5 and n = m = 2,000 and 20,000 rows; two pairs: a shift (mu 0.5, s 1) and a
shift with a wider Q (mu 0.5, s 1.5). Each configuration is repeated with seeds 0..R-1:
the estimate's bias and spread, and how often the 95% interval (subsampling half of each
sample, B subsamples) covers the truth. docs/samples.md takes its figures from here.

Run: ``.venv/bin/python benchmarks/samples_accuracy.py [--repeats 50] [--markdown]``
(about ten minutes on two cores).
"""

import argparse
import math
import time

import numpy as np

from service.samples import resampling
from service.samples.knn import knn_kl
from service.samples.methods import SUBSAMPLE_FRACTION

PAIRS = {"shift": (0.5, 1.0), "shift+scale": (0.5, 1.5)}


def true_kl(d: int, mu: float, s: float) -> float:
    return d / 2 * (1 / s**2 + mu**2 / s**2 - 1 + 2 * math.log(s))


def study(d: int, n: int, mu: float, s: float, repeats: int, resamples: int, k: int) -> dict:
    truth = true_kl(d, mu, s)
    estimates, covered, widths = [], 0, []
    for seed in range(repeats):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(n, d))
        y = mu + s * rng.normal(size=(n, d))
        value = knn_kl(x, y, k)
        draws = resampling.subsample_rows(
            lambda a, b: knn_kl(a, b, k), x, y, rng, resamples, SUBSAMPLE_FRACTION
        )
        interval = resampling.subsampling_interval(value, draws, 0.95, SUBSAMPLE_FRACTION)
        estimates.append(value)
        covered += interval.low <= truth <= interval.high
        widths.append(interval.high - interval.low)
    values = np.array(estimates)
    return {
        "truth": truth,
        "bias": float(values.mean() - truth),
        "sd": float(values.std(ddof=1)),
        "max_error": float(np.abs(values - truth).max()),
        "coverage": covered / repeats,
        "width": float(np.mean(widths)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    header = "pair | d | n | truth | bias | sd | max error | coverage | width | seconds"
    print(f"| {header} |\n|{'---|' * 10}" if args.markdown else header)
    for pair, (mu, s) in PAIRS.items():
        for d in (1, 2, 5):
            for n in (2_000, 20_000):
                start = time.perf_counter()
                resamples = 100 if n <= 2_000 else 50
                r = study(d, n, mu, s, args.repeats, resamples, args.k)
                cells = [
                    pair,
                    str(d),
                    f"{n:,}",
                    f"{r['truth']:.4f}",
                    f"{r['bias']:+.4f}",
                    f"{r['sd']:.4f}",
                    f"{r['max_error']:.4f}",
                    f"{r['coverage'] * args.repeats:.0f}/{args.repeats}",
                    f"{r['width']:.4f}",
                    f"{time.perf_counter() - start:.0f}",
                ]
                print(
                    f"| {' | '.join(cells)} |" if args.markdown else " | ".join(cells), flush=True
                )


if __name__ == "__main__":
    main()
