"""The listing of the estimators, and the resampling options of the count methods."""

import httpx
import numpy as np

from service.divergences.catalog import DIVERGENCES
from tests.samples.test_binned import post


def test_the_listing_says_what_each_method_supports(client: httpx.Client) -> None:
    response = client.get("/samples/methods")
    assert response.status_code == 200
    methods = {m["method"]: m for m in response.json()}
    assert set(methods) == {"binned", "categorical", "knn", "exact"}
    assert methods["binned"]["divergences"] == list(DIVERGENCES)
    assert methods["knn"]["divergences"] == ["kl"]
    assert methods["exact"]["divergences"] == ["wasserstein", "energy"]
    assert "subsampling" in methods["knn"]["interval"]
    assert "bins" in methods["binned"]["options"] and "k" in methods["knn"]["options"]


def test_a_binned_bootstrap_interval_surrounds_the_value_and_repeats_with_its_seed(
    client: httpx.Client,
) -> None:
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=500).tolist(), rng.normal(0.5, 1.0, size=500).tolist()
    body = {"x": x, "y": y, "bins": 10, "prior": "jeffreys", "bootstrap": 300, "seed": 4}
    first, again = post(client, "kl", **body), post(client, "kl", **body)
    assert first == again
    assert first["interval"]["low"] < first["value"] < first["interval"]["high"]
    other = post(client, "kl", **{**body, "seed": 5})
    assert other["interval"] != first["interval"]


def test_an_infinite_resample_gives_a_null_bound_not_nan(client: httpx.Client) -> None:
    answer = post(
        client, "kl", x=[0.5, 1.5] * 5, y=[0.5] * 9 + [1.5], bins=[0, 1, 2], bootstrap=200
    )
    assert answer["finite"] is True
    assert answer["interval"]["high"] is None and answer["interval"]["low"] is not None


def test_the_permutation_p_value_is_small_for_different_categories_only(
    client: httpx.Client,
) -> None:
    rng = np.random.default_rng(9)
    x = rng.choice(["a", "b", "c"], size=400, p=[0.5, 0.3, 0.2]).tolist()
    alike = rng.choice(["a", "b", "c"], size=400, p=[0.5, 0.3, 0.2]).tolist()
    unlike = rng.choice(["a", "b", "c"], size=400, p=[0.3, 0.3, 0.4]).tolist()
    assert post(client, "js", x=x, y=unlike, permutations=999)["p_value"] == 0.001
    assert post(client, "js", x=x, y=alike, permutations=999)["p_value"] > 0.05
