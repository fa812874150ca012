"""Distances between two 1-D samples, exactly as scipy computes them (in x's unit)."""

from collections.abc import Callable

import numpy as np
from scipy import stats

SampleDistance = Callable[[np.ndarray, np.ndarray], float]


def wasserstein(x: np.ndarray, y: np.ndarray) -> float:
    """The 1-Wasserstein distance between the empirical distributions of x and y."""
    return float(stats.wasserstein_distance(x, y))


def energy(x: np.ndarray, y: np.ndarray) -> float:
    """The energy distance sqrt(2 E|X - Y| - E|X - X'| - E|Y - Y'|) (scipy's definition)."""
    return float(stats.energy_distance(x, y))


DISTANCES: dict[str, tuple[str, SampleDistance]] = {
    "wasserstein": ("1-Wasserstein distance (scipy.stats.wasserstein_distance)", wasserstein),
    "energy": ("Energy distance (scipy.stats.energy_distance)", energy),
}
