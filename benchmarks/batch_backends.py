"""TensorFlow against numpy for the batch KL compute alone, by number of rows.

For 10, 100, 1,000, 10,000, 100,000 and 1,000,000 rows of 100 columns (p and q drawn with
numpy's ``default_rng``, rows normalized, float64, already in memory as numpy arrays), it
times ``service.divergences.formulas.kl(p, q)`` (numpy) and
``service.divergences.tf_formulas.kl(p, q).numpy()`` (TensorFlow, float64, the kernel
traced once beforehand; the time includes the conversion of the numpy arrays to tensors
and of the answer back to numpy, as the service's ``/kl/batch`` does). Each is the best of
several calls (more for small sizes), the two taking turns. It prints both times, the
ratio tf/numpy per size (of wall-clock times; the CPU time of the same calls is shown
beside them), and the crossover: the first size from which TensorFlow is not
slower at any larger size, or that there is none. The values of the two are checked to
agree.

Run: ``.venv/bin/python benchmarks/batch_backends.py`` (about a minute on two cores; the
largest size needs about 8 GB of memory).
"""

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
import tensorflow as tf
from _harness import machine_note, table

from service.divergences import formulas, tf_formulas

COLUMNS, SEED = 100, 7
SIZES = (10, 100, 1_000, 10_000, 100_000, 1_000_000)


def distributions(rng: np.random.Generator, rows: int) -> np.ndarray:
    out = rng.random((rows, COLUMNS))
    out /= out.sum(axis=1, keepdims=True)
    return out


def best_of(
    fns: dict[str, Callable[[], object]], budget: float, most: int
) -> dict[str, tuple[float, float]]:
    """(wall, CPU) seconds of the fastest call of each of ``fns``, calling them in turn (one
    untimed call each first) until ``budget`` seconds have passed, at least 3 and at most
    ``most`` times. CPU is this process's, all threads: above wall where TensorFlow runs
    on several threads, well below it where the shared machine was busy."""
    for fn in fns.values():
        fn()
    best = dict.fromkeys(fns, (float("inf"), float("inf")))
    start, calls = time.perf_counter(), 0
    while calls < 3 or (calls < most and time.perf_counter() - start < budget):
        for name, fn in fns.items():
            cpu, wall = time.process_time(), time.perf_counter()
            fn()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best[name] = min(best[name], (wall, cpu))
        calls += 1
    return best


def crossover(sizes: list[int], ratios: list[float]) -> int | None:
    """The first size from which every ratio tf/numpy is at most 1, or None."""
    found = None
    for size, ratio in zip(reversed(sizes), reversed(ratios), strict=True):
        if ratio > 1:
            break
        found = size
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--budget", type=float, default=2.0, help="seconds per size, about")
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    warm = distributions(rng, 2)
    tf_formulas.kl(warm, warm).numpy()  # trace the kernel once, as the service warms up

    rows = []
    ratios = []
    for size in args.sizes:
        p, q = distributions(rng, size), distributions(rng, size)
        expected = formulas.kl(p, q)
        if not np.allclose(tf_formulas.kl(p, q).numpy(), expected, rtol=1e-12, atol=1e-15):
            raise RuntimeError(f"TensorFlow and numpy disagree at {size} rows")
        best = best_of(
            {
                "numpy": lambda p=p, q=q: formulas.kl(p, q),
                "tf": lambda p=p, q=q: tf_formulas.kl(p, q).numpy(),
            },
            budget=args.budget,
            most=200,
        )
        del p, q, expected
        (np_wall, np_cpu), (tf_wall, tf_cpu) = best["numpy"], best["tf"]
        ratio = tf_wall / np_wall
        ratios.append(ratio)
        rows.append(
            [
                f"{size:,}",
                f"{np_wall * 1e3:,.3f}",
                f"{tf_wall * 1e3:,.3f}",
                f"{ratio:.2f}",
                "TF" if ratio <= 1 else "numpy",
                f"{np_cpu * 1e3:,.1f}",
                f"{tf_cpu * 1e3:,.1f}",
            ]
        )
    threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    print(
        f"KL of p and q, rows x {COLUMNS} float64, best of >= 3 calls; "
        f"TensorFlow {tf.__version__} on CPU ({threads} intra-op threads), "
        f"numpy {np.__version__}; {machine_note()}"
    )
    headers = ["rows", "numpy ms", "tf ms", "tf/numpy", "faster", "numpy cpu ms", "tf cpu ms"]
    print(table(headers, rows))
    found = crossover(args.sizes, ratios)
    if found is None:
        print("crossover: none, TensorFlow is slower than numpy at the largest size measured")
    else:
        print(f"crossover: {found:,} rows (TensorFlow is not slower from there on)")


if __name__ == "__main__":
    main()
