"""Wasserstein and energy distances between 1-D samples over HTTP: scipy's values."""

import httpx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tests.samples.test_binned import post

SAMPLES = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=50
)


@settings(max_examples=30, deadline=None)
@given(x=SAMPLES, y=SAMPLES)
def test_wasserstein_and_energy_equal_scipys(
    client: httpx.Client, x: list[float], y: list[float]
) -> None:
    for name, reference in (
        ("wasserstein", stats.wasserstein_distance),
        ("energy", stats.energy_distance),
    ):
        answer = post(client, name, x=x, y=y)
        assert answer["method"] == "exact" and answer["unit"] == "unit of the samples"
        assert answer["value"] == pytest.approx(float(reference(x, y)), rel=1e-12, abs=1e-12)


def test_a_bootstrap_interval_surrounds_the_distance_and_repeats_with_its_seed(
    client: httpx.Client,
) -> None:
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=400).tolist(), rng.normal(1.0, 1.0, size=300).tolist()
    first = post(client, "wasserstein", x=x, y=y, bootstrap=200, seed=3)
    again = post(client, "wasserstein", x=x, y=y, bootstrap=200, seed=3)
    interval = first["interval"]
    assert first == again
    assert interval["low"] < first["value"] < interval["high"]
    assert interval["confidence"] == 0.95 and interval["resamples"] == 200
    assert interval["scheme"] == "bootstrap percentile"


def test_permutations_tell_apart_different_samples_and_not_alike_ones(
    client: httpx.Client,
) -> None:
    rng = np.random.default_rng(6)
    x = rng.normal(size=300).tolist()
    far = post(client, "energy", x=x, y=rng.normal(0.8, size=300).tolist(), permutations=199)
    near = post(client, "energy", x=x, y=rng.normal(size=300).tolist(), permutations=199)
    assert far["p_value"] == 1 / 200
    assert near["p_value"] > 0.05
