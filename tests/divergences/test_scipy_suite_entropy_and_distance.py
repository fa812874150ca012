"""scipy's own tests of ``scipy.stats.entropy`` (TestEntropy) and of
``scipy.spatial.distance.jensenshannon`` (test_jensenshannon and the pdist tests on the
data files scipy ships), ported to the service over HTTP. The elementwise functions are in
``test_scipy_suite.py``; ``docs/scipy-suite.md`` maps each scipy test to its port here and
lists every deliberate difference.
"""

import math
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pytest
import scipy
from scipy import stats
from scipy.spatial import distance

from tests.divergences.test_scipy_suite import ok, post, refused_at

# xp_assert_close's default for float64 (scipy._lib._array_api), which scipy's literal
# reference values in TestEntropy were checked with.
SCIPY_DEFAULT_RTOL = float(np.finfo(np.float64).eps) ** 0.5 * 4
# The service promises 1e-12 between its numpy (one pair) and TensorFlow (batch) paths.
PATHS_RTOL = 1e-12


# --- scipy.stats.entropy (TestEntropy) -----------------------------------------------
# stats.entropy(pk) is the entropy and stats.entropy(pk, qk) the KL of pk and qk, each
# normalized first and taken along axis 0. The service takes one pair, or rows (a batch),
# and scales only with normalize: true; so scipy's columns are sent as rows.
PK = [[0.1, 0.2], [0.6, 0.3], [0.3, 0.5]]
QK = [[0.2, 0.1], [0.3, 0.6], [0.5, 0.3]]


def columns(matrix: list[list[float]]) -> list[list[float]]:
    return np.array(matrix).T.tolist()


def batch(
    client: httpx.Client, name: str, p: object, q: object = None, **options: object
) -> dict[str, Any]:
    body = {"p": p, **({"q": q} if q is not None else {}), **options}
    return ok(post(client, f"/divergences/{name}/batch", body))


def one(
    client: httpx.Client, name: str, p: object, q: object = None, **options: object
) -> dict[str, Any]:
    body = {"p": p, **({"q": q} if q is not None else {}), **options}
    return ok(post(client, f"/divergences/{name}", body))


def test_kl_of_a_distribution_with_itself_is_exactly_zero_and_positive_otherwise(
    client: httpx.Client,
) -> None:
    """Ports TestEntropy.test_entropy_positive (scipy ticket #497)."""
    pk, qk = [0.5, 0.2, 0.3], [0.1, 0.25, 0.65]
    assert ok(post(client, "/kl", {"p": pk, "q": pk}))["kl"] == 0.0
    kl = ok(post(client, "/kl", {"p": pk, "q": qk}))["kl"]
    assert kl > 0
    np.testing.assert_allclose(kl, stats.entropy(pk, qk), rtol=PATHS_RTOL)


def test_sixteen_equal_weights_have_four_bits_and_kl_in_bits_is_kl_in_nats_over_ln_2(
    client: httpx.Client,
) -> None:
    """Ports TestEntropy.test_entropy_base (weights: normalize: true)."""
    pk, qk = [1.0] * 16, [2.0] * 8 + [1.0] * 8
    assert abs(one(client, "entropy", pk, normalize=True, base=2)["value"] - 4.0) < 1e-5
    nats = one(client, "kl", pk, qk, normalize=True)["value"]
    bits = one(client, "kl", pk, qk, normalize=True, base=2)["value"]
    assert abs(nats / bits - math.log(2.0)) < 1e-5
    np.testing.assert_allclose(bits, stats.entropy(pk, qk, base=2), rtol=PATHS_RTOL)


def test_entropy_of_weights_with_a_zero_matches_scipy(client: httpx.Client) -> None:
    """Ports TestEntropy.test_entropy_zero (scipy PR-479): 0 log 0 = 0."""
    value = one(client, "entropy", [0.0, 1.0, 2.0], normalize=True)["value"]
    np.testing.assert_allclose(value, 0.63651416829481278, rtol=SCIPY_DEFAULT_RTOL)


def test_kl_of_columns_sent_as_rows_matches_scipys_2d_values(client: httpx.Client) -> None:
    """Ports TestEntropy.test_entropy_2d (scipy's axis 0: its columns are our rows)."""
    answer = batch(client, "kl", columns(PK), columns(QK))
    np.testing.assert_allclose(answer["value"], [0.1933259, 0.18609809], rtol=SCIPY_DEFAULT_RTOL)
    np.testing.assert_allclose(answer["value"], stats.entropy(PK, QK), rtol=PATHS_RTOL)


def test_a_zero_in_q_gives_an_infinite_row_and_a_q_off_one_needs_normalize(
    client: httpx.Client,
) -> None:
    """Ports TestEntropy.test_entropy_2d_zero. Its q column (0, 0.3, 0.5) sums to 0.8:
    scipy scales it silently; the service refuses it unless normalize: true is sent."""
    qk = [[0.0, 0.1], [0.3, 0.6], [0.5, 0.3]]
    unscaled = post(client, "/divergences/kl/batch", {"p": columns(PK), "q": columns(qk)})
    assert "sums to" in refused_at(unscaled, ["body", "q", 0])
    answer = batch(client, "kl", columns(PK), columns(qk), normalize=True)
    assert answer["value"][0] is None and answer["finite"] == [False, True]
    assert answer["infinite_at"] == [0, None]
    np.testing.assert_allclose(answer["value"][1], 0.18609809, rtol=SCIPY_DEFAULT_RTOL)

    pk = [[0.0, 0.2], [0.6, 0.3], [0.3, 0.5]]
    answer = batch(client, "kl", columns(pk), columns(qk), normalize=True)
    assert answer["finite"] == [True, True]
    np.testing.assert_allclose(answer["value"], [0.17403988, 0.18609809], rtol=SCIPY_DEFAULT_RTOL)
    np.testing.assert_allclose(answer["value"], stats.entropy(pk, qk), rtol=PATHS_RTOL)


def test_entropy_and_kl_of_rows_match_scipys_values_along_axis_1(client: httpx.Client) -> None:
    """Ports TestEntropy.test_entropy_base_2d_nondefault_axis and
    test_entropy_2d_nondefault_axis (rows of weights: normalize: true)."""
    entropy = batch(client, "entropy", PK, normalize=True)["value"]
    expected_entropy = [0.63651417, 0.63651417, 0.66156324]
    np.testing.assert_allclose(entropy, expected_entropy, rtol=SCIPY_DEFAULT_RTOL)
    kl = batch(client, "kl", PK, QK, normalize=True)["value"]
    np.testing.assert_allclose(kl, [0.23104906, 0.23104906, 0.12770641], rtol=SCIPY_DEFAULT_RTOL)


@pytest.mark.parametrize("name", ["entropy", "kl"])
def test_a_batch_row_answers_as_the_same_pair_sent_alone(client: httpx.Client, name: str) -> None:
    """Ports TestEntropy's axis tests (test_base_entropy_with_axis_0_is_equal_to_default,
    test_entropy_with_axis_0_is_equal_to_default, test_base_entropy_transposed,
    test_entropy_transposed): the service has no axis; its batch rows must answer as
    single pairs do, on another path (TensorFlow against numpy, 1e-12 apart)."""
    q = columns(QK) if name == "kl" else None
    rows = batch(client, name, columns(PK), q, normalize=True)["value"]
    alone = [
        one(client, name, p, q[i] if q else None, normalize=True)["value"]
        for i, p in enumerate(columns(PK))
    ]
    np.testing.assert_allclose(rows, alone, rtol=PATHS_RTOL)
    expected = stats.entropy(PK, QK if name == "kl" else None)  # scipy's default axis 0
    np.testing.assert_allclose(rows, expected, rtol=PATHS_RTOL)


def test_one_p_against_rows_of_q_answers_each_row_as_alone(client: httpx.Client) -> None:
    """Ports TestEntropy.test_entropy_broadcasting: scipy broadcasts x (3,) against y
    (2, 1); the service broadcasts only a single q row, so p is repeated per q row. scipy
    asks equality; the rows go through TensorFlow and the pairs through numpy (1e-12)."""
    rng = np.random.default_rng(74187315492831452)
    x, y = rng.random(3), rng.random((2, 1))
    q_rows = np.broadcast_to(y, (2, 3)).tolist()
    rows = batch(client, "kl", [x.tolist()] * 2, q_rows, normalize=True)["value"]
    for row, q in zip(rows, q_rows, strict=True):
        alone = one(client, "kl", x.tolist(), q, normalize=True)["value"]
        np.testing.assert_allclose(row, alone, rtol=PATHS_RTOL)
        np.testing.assert_allclose(row, stats.entropy(x, q), rtol=PATHS_RTOL)


def test_distributions_of_different_lengths_are_refused(client: httpx.Client) -> None:
    """Ports TestEntropy.test_entropy_raises_value_error and test_entropy_shape_mismatch:
    scipy raises ValueError; the service answers 422 naming q."""
    mismatched = {"p": columns(PK), "q": columns(QK[:2]), "normalize": True}
    assert "same length" in refused_at(
        post(client, "/divergences/kl/batch", mismatched), ["body", "q"]
    )
    rows = {"p": np.ones((10, 12)).tolist(), "q": np.ones((11, 2)).tolist(), "normalize": True}
    assert "same length" in refused_at(post(client, "/kl/batch", rows), ["body", "q"])


@pytest.mark.parametrize("base", [-2, 0.5, 1, 0])
def test_a_base_that_is_not_greater_than_one_is_refused(client: httpx.Client, base: float) -> None:
    """Ports TestEntropy.test_input_validation (base=-2). scipy refuses bases <= 0 only;
    the service also refuses bases in (0, 1] (they make divergences negative, or have no
    logarithm), so those are checked too."""
    body = {"p": [0.5, 0.5], "q": [0.25, 0.75], "base": base}
    for path in ("/kl", "/divergences/entropy"):
        assert "base must be" in refused_at(post(client, path, body), ["body", "base"])


# --- scipy.spatial.distance.jensenshannon ----------------------------------------------
# jensenshannon(p, q) normalizes p and q and answers the Jensen-Shannon distance: the
# service's js_distance with normalize: true.


def test_jensen_shannon_distance_of_scipys_examples(client: httpx.Client) -> None:
    """Ports test_jensenshannon (assert_almost_equal: 7 decimals). scipy's axis=0 and
    axis=1 calls become batches of columns and of rows; keepdims only reshapes scipy's
    answer, so its two calls are the same values here."""
    close = np.testing.assert_almost_equal
    close(one(client, "js_distance", [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], base=2)["value"], 1.0)
    close(one(client, "js_distance", [1.0, 0.0], [0.5, 0.5])["value"], 0.46450140402245893)
    close(one(client, "js_distance", [1.0, 0.0, 0.0], [1.0, 0.0, 0.0])["value"], 0.0)

    p, q = [[1.0, 2.0]], [[0.5, 1.5]]
    close(batch(client, "js_distance", columns(p), columns(q), normalize=True)["value"], [0, 0])
    close(batch(client, "js_distance", p, q, normalize=True)["value"], [0.0649045])

    a = np.arange(1.0, 13.0).reshape(3, 4)
    b = np.arange(13.0, 25.0).reshape(3, 4)
    along_0 = batch(client, "js_distance", a.T.tolist(), b.T.tolist(), normalize=True)
    close(along_0["value"], [0.1954288, 0.1447697, 0.1138377, 0.0927636])
    along_1 = batch(client, "js_distance", a.tolist(), b.tolist(), normalize=True)
    close(along_1["value"], [0.1402339, 0.0399106, 0.0201815])


# scipy's pdist tests read these files, shipped with scipy (scipy/spatial/tests/data):
# the observations, then pdist(X, 'jensenshannon') of them.
DATA = Path(scipy.__file__).parent / "spatial" / "tests" / "data"
PDIST_FILES = {
    "random": ("pdist-double-inp.txt", "pdist-jensenshannon-ml.txt"),
    "iris": ("iris.txt", "pdist-jensenshannon-ml-iris.txt"),
}


def pdist_pairs(observations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of every pair i < j, in pdist's order (i major)."""
    i, j = np.triu_indices(len(observations), k=1)
    return observations[i], observations[j]


def pdist_case(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p rows, q rows and scipy's expected distances of pdist(X, 'jensenshannon')."""
    observations, distances = PDIST_FILES[name]
    p, q = pdist_pairs(np.loadtxt(DATA / observations))
    return p, q, np.loadtxt(DATA / distances)


def arrow_float32_batch(client: httpx.Client, p: np.ndarray, q: np.ndarray) -> list[float]:
    """js_distance of float32 rows, sent as an Arrow stream of float32 fixed-size lists."""

    def rows(matrix: np.ndarray) -> pa.Array:
        flat = pa.array(matrix.astype(np.float32).ravel(), type=pa.float32())
        return pa.FixedSizeListArray.from_arrays(flat, matrix.shape[1])

    table = pa.table({"p": rows(p), "q": rows(q)})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    response = client.post(
        "/divergences/js_distance/batch",
        content=bytes(sink.getvalue()),
        headers={"content-type": "application/vnd.apache.arrow.stream"},
        params={"normalize": "true"},
    )
    return list(ok(response)["value"])


def test_jensen_shannon_distances_of_random_rows_match_scipys_data_file(
    client: httpx.Client,
) -> None:
    """Ports TestPdist.test_pdist_jensenshannon_random (rtol 1e-11), on the batch path."""
    p, q, expected = pdist_case("random")
    answer = batch(client, "js_distance", p.tolist(), q.tolist(), normalize=True)
    np.testing.assert_allclose(answer["value"], expected, rtol=1e-11)
    oracle = distance.jensenshannon(p, q, axis=1)  # scipy itself, on the same rows
    np.testing.assert_allclose(answer["value"], oracle, rtol=PATHS_RTOL)


def test_jensen_shannon_distances_of_random_float32_rows_match_scipys_data_file(
    client: httpx.Client,
) -> None:
    """Ports TestPdist.test_pdist_jensenshannon_random_float32 (rtol 1e-8): float32
    rows, as an Arrow stream of float32 (the service widens them to float64)."""
    p, q, expected = pdist_case("random")
    np.testing.assert_allclose(arrow_float32_batch(client, p, q), expected, rtol=1e-8)


def test_jensen_shannon_distances_of_random_rows_one_pair_at_a_time_match_scipy(
    client: httpx.Client,
) -> None:
    """Ports TestPdist.test_pdist_jensenshannon_random_nonC (rtol 1e-11): scipy's other
    implementation (pure Python) becomes the service's other path, one pair per request
    (numpy)."""
    p, q, expected = pdist_case("random")
    values = [
        one(client, "js_distance", a.tolist(), b.tolist(), normalize=True)["value"]
        for a, b in zip(p, q, strict=True)
    ]
    np.testing.assert_allclose(values, expected, rtol=1e-11)


def test_jensen_shannon_distances_of_iris_match_scipys_data_file(client: httpx.Client) -> None:
    """Ports TestPdist.test_pdist_jensenshannon_iris (atol 1e-12; scipy's 64-bit value):
    all 11,175 pairs of the 150 iris rows in one batch."""
    p, q, expected = pdist_case("iris")
    answer = batch(client, "js_distance", p.tolist(), q.tolist(), normalize=True)
    np.testing.assert_allclose(answer["value"], expected, atol=1e-12, rtol=0)


def test_jensen_shannon_distances_of_float32_iris_match_scipys_data_file(
    client: httpx.Client,
) -> None:
    """Ports TestPdist.test_pdist_jensenshannon_iris_float32 (atol 1e-6), as Arrow float32."""
    p, q, expected = pdist_case("iris")
    np.testing.assert_allclose(arrow_float32_batch(client, p, q), expected, atol=1e-6, rtol=0)


def test_jensen_shannon_distances_of_iris_one_pair_at_a_time_match_scipy(
    client: httpx.Client,
) -> None:
    """Ports TestPdist.test_pdist_jensenshannon_iris_nonC (rtol 5e-5) on the one-pair
    path (numpy). Every tenth pair (1,118 of 11,175, in pdist's order, across all three
    species) keeps the test to seconds: one request a pair."""
    p, q, expected = pdist_case("iris")
    values = [
        one(client, "js_distance", a.tolist(), b.tolist(), normalize=True)["value"]
        for a, b in zip(p[::10], q[::10], strict=True)
    ]
    np.testing.assert_allclose(values, expected[::10], rtol=5e-5)
