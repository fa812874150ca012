"""How accurate each member of the family is near its minimum: the largest relative error,
against exact values (mpmath, 80 digits, ``tests/exact_values.py``), over nearly equal
distributions, of the service's numpy path (single pairs), its TensorFlow path (batches)
and the plain formulas (``sum p log(p/q)`` and kin, as the service computed them before
``service/divergences/near_zero.py``), per perturbation: q = p moved by up to 4 ulps per
element, or by a relative 1e-8 or 1e-4 (then rescaled to sum 1). ``below`` counts plain
values under the member's lower bound (the service's never are). Pairs whose exact value
is 0 (p = q) are left out of the relative errors.

Run: ``.venv/bin/python benchmarks/near_zero_accuracy.py [--pairs 200] [--seed 17]``.
"""

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.divergences.inputs import Limits
from tests.exact_values import EXACT, NOISE, expected, service_value

LIMITS = Limits(max_vector_length=1000, max_batch_rows=100_000, sum_tolerance=1e-6)
Plain = Callable[[np.ndarray, np.ndarray], float]


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    return float(np.sum(p * np.log(p / q)))


def _js(p: np.ndarray, q: np.ndarray) -> float:
    m = (p + q) / 2
    return (_kl(p, m) + _kl(q, m)) / 2


def _renyi(alpha: float) -> Plain:
    return lambda p, q: float(np.log(np.sum(p**alpha * q ** (1 - alpha))) / (alpha - 1))


def _amari(alpha: float) -> Plain:
    if alpha in (0.0, 1.0):
        return (lambda p, q: _kl(q, p)) if alpha == 0 else _kl
    return lambda p, q: float((np.sum(p**alpha * q ** (1 - alpha)) - 1) / (alpha * (alpha - 1)))


PLAIN: dict[str, Plain] = {
    "kl": _kl,
    "reverse_kl": lambda p, q: _kl(q, p),
    "jeffreys": lambda p, q: _kl(p, q) + _kl(q, p),
    "js": _js,
    "js_distance": lambda p, q: math.sqrt(max(_js(p, q), 0.0)),
    "cross_entropy": lambda p, q: float(-np.sum(p * np.log(q))),
    "hellinger": lambda p, q: float(np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2))),
    "total_variation": lambda p, q: float(0.5 * np.sum(np.abs(p - q))),
    "bhattacharyya": lambda p, q: float(-np.log(np.sum(np.sqrt(p * q)))),
    "chi_square": lambda p, q: float(np.sum((p - q) ** 2 / q)),
    "triangular": lambda p, q: float(np.sum((p - q) ** 2 / (p + q))),
    **{f"alpha_{a:g}": _amari(a) for a in (-1.0, 0.0, 0.5, 1.0, 3.0)},
    "renyi_0.5": _renyi(0.5),
    "renyi_2": _renyi(2.0),
}


def nearly_equal(rng: np.random.Generator, how: str) -> tuple[np.ndarray, np.ndarray]:
    n = int(rng.integers(2, 13))
    p = rng.uniform(1e-4, 1.0, n)
    p /= p.sum()
    if how == "ulps":
        q = p.copy()
        for i, steps in enumerate(rng.integers(-4, 5, n)):
            for _ in range(abs(int(steps))):
                q[i] = np.nextafter(q[i], np.inf if steps > 0 else 0.0)
        return p, q
    q = p * (1 + float(how) * rng.uniform(-1, 1, n))
    return p, q / q.sum()


def service(name: str, p: np.ndarray, q: np.ndarray, backend: str) -> np.ndarray:
    return service_value(name, p, q, backend, LIMITS)


def relative(got: float, want: float) -> float:
    return abs(got - want) / abs(want)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"{args.pairs} pairs per perturbation; largest relative error (exact values 0 left out)")
    print(f"{'member':<16}{'moved by':>9}{'numpy':>11}{'tensorflow':>12}{'plain':>11}{'below':>7}")
    for how in ("ulps", "1e-8", "1e-4"):
        pairs = [nearly_equal(rng, how) for _ in range(args.pairs)]
        for name, (_, low, _) in EXACT.items():
            worst = {"numpy": 0.0, "tensorflow": 0.0, "plain": 0.0}
            below = 0
            for p, q in pairs:
                want = expected(name, p, q)
                plain = PLAIN[name](p, q)
                below += plain < low
                if abs(want) < NOISE:
                    continue
                got = {
                    "numpy": float(service(name, p, q, "numpy")),
                    "tensorflow": float(service(name, p[None], q[None], "tensorflow")[0]),
                    "plain": plain,
                }
                for key, value in got.items():
                    worst[key] = max(worst[key], relative(value, want))
            print(
                f"{name:<16}{how:>9}{worst['numpy']:>11.1e}{worst['tensorflow']:>12.1e}"
                f"{worst['plain']:>11.1e}{below:>7}"
            )


if __name__ == "__main__":
    main()
