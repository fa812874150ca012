"""TensorFlow against numpy, and both against the memory-bandwidth bound, for batch compute.

For 10, 100, 1,000, 10,000, 100,000 and 1,000,000 rows of 100 columns (p and q drawn with
numpy's ``default_rng``, rows normalized, float64, already in memory as numpy arrays), it
times ``service.divergences.formulas.kl(p, q)`` (numpy) and
``service.divergences.tf.kernels.kl.values(p, q)`` (TensorFlow, float64: the call the
service's ``/kl/batch`` makes, numpy arrays in and out, conversions included; XLA chunks
from ``XLA_MIN_ELEMENTS`` elements, compiled beforehand by an untimed call, as the
service's first batch of a column count would). Each is the best of several calls (more
for small sizes), the two taking turns. It prints both times, the ratio tf/numpy per size
(of wall-clock times; the CPU time of the same calls is shown beside them), and the
crossover: the first size from which TensorFlow is not slower at any larger size, or that
there is none; then whether the target holds: TensorFlow not slower than numpy at every
size from 10,000 rows up. The values of the two are checked to agree.

The bound: reading p and q once (16 bytes an element) at this machine's copy speed
(``np.copyto`` of a 256 MiB array, bytes read plus bytes written over the time, best of
several, one thread). ``bound ms`` is that time per size, and ``% of bound`` how close each
backend gets to it (100% would be no faster than reading the inputs once on one thread;
several threads can exceed it).

``--divergences`` times other members of the family too (``all``: every one; Renyi at
order 2), one table each.

numpy's times include the page faults of its temporaries wherever glibc hands their
memory back to the system between calls (blocks above its mmap threshold: from about
10,000 rows, depending on what the process allocated before). To time numpy without them,
run with ``MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=17179869184``.

Run: ``.venv/bin/python benchmarks/batch_backends.py [--markdown]`` (about a minute on two
cores; the largest size needs about 8 GB of memory; ``--markdown`` prints the tables in
Markdown).
"""

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
import tensorflow as tf
from _harness import machine_note, table

from service.divergences.catalog import DIVERGENCES, formula
from service.divergences.tf import engine, kernels

COLUMNS, SEED = 100, 7
TARGET_FROM = 10_000
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


def target_verdict(sizes: list[int], ratios: list[float]) -> str:
    """Whether TensorFlow is not slower than numpy at every size from ``TARGET_FROM`` up."""
    measured = [(s, r) for s, r in zip(sizes, ratios, strict=True) if s >= TARGET_FROM]
    if not measured:
        return f"target (not slower than numpy from {TARGET_FROM:,} rows up): not measured"
    missed = [f"{s:,} ({r:.2f})" for s, r in measured if r > 1]
    verdict = "met" if not missed else "MISSED at " + ", ".join(missed)
    sizes_text = ", ".join(f"{s:,}" for s, _ in measured)
    return (
        f"target (TensorFlow not slower than numpy from {TARGET_FROM:,} rows up): {verdict}"
        f" (measured at {sizes_text} rows)"
    )


def copy_speed(mebibytes: int = 256, repeats: int = 7) -> float:
    """This machine's copy speed in bytes per second: ``np.copyto`` of a large float64 array,
    bytes read plus bytes written over the best time (one thread, pages touched first)."""
    source = np.random.default_rng(0).random(mebibytes * 2**20 // 8)
    target = np.empty_like(source)
    np.copyto(target, source)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - start)
    return 2 * source.nbytes / best


def agree(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal infinities, and finite values within 1e-12 relative (1e-15 absolute near 0)."""
    return bool(np.array_equal(np.isinf(a), np.isinf(b))) and bool(
        np.allclose(a[np.isfinite(a)], b[np.isfinite(b)], rtol=1e-12, atol=1e-15)
    )


def measure(
    name: str, sizes: list[int], budget: float, speed: float
) -> tuple[list[list[str]], list[float]]:
    """The table rows of one divergence and its ratios tf/numpy, size by size."""
    divergence = DIVERGENCES[name]
    numpy_fn, kernel = formula(divergence, "numpy"), formula(divergence, "tensorflow")
    args = (2.0,) if divergence.parameters else ()
    rng = np.random.default_rng(SEED)
    rows, ratios = [], []
    for size in sizes:
        p, q = distributions(rng, size), distributions(rng, size)
        if not agree(kernel.values(p, q, *args), numpy_fn(p, q, *args)):
            raise RuntimeError(f"TensorFlow and numpy disagree on {name} at {size} rows")
        best = best_of(
            {
                "numpy": lambda p=p, q=q: numpy_fn(p, q, *args),
                "tf": lambda p=p, q=q: kernel.values(p, q, *args),
            },
            budget=budget,
            most=200,
        )
        bound = (p.nbytes + q.nbytes) / speed
        del p, q
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
                f"{bound * 1e3:,.3f}",
                f"{bound / np_wall:.0%}",
                f"{bound / tf_wall:.0%}",
                f"{np_cpu * 1e3:,.1f}",
                f"{tf_cpu * 1e3:,.1f}",
            ]
        )
    return rows, ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--budget", type=float, default=2.0, help="seconds per size, about")
    parser.add_argument("--divergences", nargs="+", default=["kl"], help="members to time, or: all")
    parser.add_argument(
        "--markdown",
        action="store_true",
        help="print the tables as Markdown, with the line naming the machine (for docs/)",
    )
    args = parser.parse_args()
    md = "\n" if args.markdown else ""  # a blank line after each line of text in Markdown
    names = sorted(DIVERGENCES) if args.divergences == ["all"] else args.divergences
    warm = distributions(np.random.default_rng(SEED), 2)
    kernels.kl.values(warm, warm)  # trace the small-batch graph, as the service warms up
    speed = copy_speed()

    threads = tf.config.threading.get_intra_op_parallelism_threads() or len(os.sched_getaffinity(0))
    print(
        f"rows x {COLUMNS} float64, best of >= 3 calls; TensorFlow {tf.__version__} on CPU "
        f"(XLA chunks from {engine.XLA_MIN_ELEMENTS:,} elements, {threads} threads), "
        f"numpy {np.__version__}; {machine_note()}{md}"
    )
    print(
        f"copy speed {speed / 1e9:.1f} GB/s (np.copyto of 256 MiB, read + written, best of 7);"
        f" bound = p and q read once at that speed{md}"
    )
    headers = [
        "rows",
        "numpy ms",
        "tf ms",
        "tf/numpy",
        "faster",
        "bound ms",
        "numpy % of bound",
        "tf % of bound",
        "numpy cpu ms",
        "tf cpu ms",
    ]
    for name in names:
        rows, ratios = measure(name, args.sizes, args.budget, speed)
        print(f"\n{name}" + (" (order 2)" if DIVERGENCES[name].parameters else ""))
        print(table(headers, rows, markdown=args.markdown))
        found = crossover(args.sizes, ratios)
        if found is None:
            none = "crossover: none, TensorFlow is slower than numpy at the largest size measured"
            print(none + md)
        else:
            print(f"crossover: {found:,} rows (TensorFlow is not slower from there on){md}")
        print(target_verdict(args.sizes, ratios) + md)


if __name__ == "__main__":
    main()
