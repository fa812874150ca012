"""Drift of a current table from a reference profile: cells, scores, defaults, verdicts."""

from typing import Any

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from service.core.errors import InputTooLarge, InvalidInput
from service.divergences.inputs import Limits
from service.samples.drift import (
    METHODS,
    ColumnOptions,
    column_drift,
    dataset_drift,
    drift,
)
from service.samples.profiles import DEFAULT_BINS, build_profile, wasserstein_to_atoms
from service.samples.tables import Column, Table
from tests.samples.test_profiles import labels, numbers

LIMITS = Limits(max_vector_length=1_000_000, max_batch_rows=1_000_000, sum_tolerance=1e-6)
ROWS = 20_000
SEEDS = range(20)
SHARES = np.array([0.30, 0.25, 0.18, 0.12, 0.10, 0.05])
CATEGORIES = np.array(list("abcdef"))


def profile_of(*columns: Column) -> dict[str, dict]:
    return build_profile({c.name: c for c in columns}, kinds={}, bins=DEFAULT_BINS)


def drift_of(
    reference: Column, current: Column, options: ColumnOptions | None = None
) -> dict[str, Any]:
    return column_drift(
        current.name,
        profile_of(reference)[reference.name],
        current,
        options or ColumnOptions(),
        LIMITS,
    )


def numpy_cells(profile: dict, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference and current counts over the k + 2 cells, by numpy.histogram."""
    edges = np.array(profile["edges"])
    inside = np.histogram(current, edges)[0]
    outer = [np.sum(current < edges[0]), np.sum(current > edges[-1])]
    return (
        np.array([0, *profile["counts"], 0]),
        np.array([outer[0], *inside, outer[1]]),
    )


def psi(p: np.ndarray, q: np.ndarray) -> float:
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum((p - q) * np.log(p / q)))


def fold(cells: np.ndarray) -> np.ndarray:
    """[below] + bins + [above] with the outer cells added to the first and last bins."""
    return np.array([cells[0] + cells[1], *cells[2:-2], cells[-2] + cells[-1]])


def test_binned_scores_are_the_familys_formula_on_numpys_counts() -> None:
    rng = np.random.default_rng(10)
    reference, current = rng.normal(size=3_000), rng.normal(0.3, 1.3, size=2_000)
    profile = profile_of(numbers("x", reference))["x"]
    ref_cells, cur_cells = numpy_cells(profile, current)
    assert cur_cells[0] > 0 and cur_cells[-1] > 0  # both outer cells are used

    def found(method: str, prior: str = "none") -> dict[str, Any]:
        options = ColumnOptions(method=method, prior=prior)
        return column_drift("x", profile, numbers("x", current), options, LIMITS)

    js = found("js_distance")
    assert js["cells"] == {"reference": ref_cells.tolist(), "current": cur_cells.tolist()}
    assert js["edges"] == profile["edges"] and js["unit"] == "sqrt(bit)"
    # The members score the outer cells in the first and last bins (open-ended bins).
    ref_bins, cur_bins = fold(ref_cells), fold(cur_cells)
    assert js["score"] == pytest.approx(jensenshannon(cur_bins, ref_bins, base=2), rel=1e-12)
    jeffreys = found("psi", "jeffreys")
    assert jeffreys["score"] == pytest.approx(psi(cur_bins + 0.5, ref_bins + 0.5), rel=1e-12)
    assert jeffreys["unit"] == "nat" and jeffreys["threshold"] == 0.2
    assert found("psi", "jeffreys")["score"] == found("jeffreys", "jeffreys")["score"]
    kl = found("kl", "laplace")
    p, q = (cur_bins + 1) / (cur_bins + 1).sum(), (ref_bins + 1) / (ref_bins + 1).sum()
    assert kl["score"] == pytest.approx(float(np.sum(p * np.log(p / q))), rel=1e-12)
    assert js["outside_share"] == (cur_cells[0] + cur_cells[-1]) / 2_000


def test_categorical_scores_are_the_familys_formula_with_unseen_cells_last() -> None:
    rng = np.random.default_rng(11)
    reference = rng.choice(CATEGORIES, 4_000, p=SHARES)
    current = np.concatenate([rng.choice(CATEGORIES[:5], 3_000), ["z"] * 20, ["y"] * 30])
    found = drift_of(labels("c", reference), labels("c", current))
    expected_labels = [*profile_of(labels("c", reference))["c"]["categories"], "y", "z"]
    assert found["labels"] == expected_labels
    ref_cells = np.array([np.sum(reference == c) for c in expected_labels])
    cur_cells = np.array([np.sum(current == c) for c in expected_labels])
    assert found["cells"] == {"reference": ref_cells.tolist(), "current": cur_cells.tolist()}
    assert found["method"] == "js_distance"
    assert found["score"] == pytest.approx(jensenshannon(cur_cells, ref_cells, base=2), rel=1e-12)
    assert found["unseen"] == [{"category": "y", "count": 30}, {"category": "z", "count": 20}]
    assert found["unseen_share"] == 50 / 3_050
    with_prior = drift_of(
        labels("c", reference), labels("c", current), ColumnOptions("psi", None, 1)
    )
    assert with_prior["score"] == pytest.approx(psi(cur_cells + 1.0, ref_cells + 1.0), rel=1e-12)


def test_wasserstein_is_scipys_distance_to_the_quantile_atoms_over_the_reference_std() -> None:
    rng = np.random.default_rng(12)
    reference, current = rng.lognormal(size=5_000), rng.lognormal(0.2, 1.1, size=3_001)
    profile = profile_of(numbers("x", reference))["x"]
    found = column_drift("x", profile, numbers("x", current), ColumnOptions(), LIMITS)
    expected = stats.wasserstein_distance(current, profile["quantiles"]) / np.std(reference)
    assert found["method"] == "wasserstein" and found["threshold"] == 0.1
    assert found["unit"] == "reference standard deviations"
    assert found["score"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_the_linear_wasserstein_pass_equals_scipys_with_ties_too(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.sort(rng.integers(-5, 6, size=997).astype(float))  # many ties
    atoms = rng.integers(-6, 5, size=100).astype(float)
    expected = stats.wasserstein_distance(values, atoms)
    assert wasserstein_to_atoms(values, atoms) == pytest.approx(expected, rel=1e-12)
    smooth = np.sort(rng.normal(size=1_234))
    atoms = rng.normal(0.1, size=1_000)
    expected = stats.wasserstein_distance(smooth, atoms)
    assert wasserstein_to_atoms(smooth, atoms) == pytest.approx(expected, rel=1e-12)


def test_a_constant_reference_is_0_from_itself_and_infinitely_far_from_anything_else() -> None:
    reference = numbers("x", [3.0] * 50)
    profile = build_profile({"x": reference}, kinds={"x": "numeric"}, bins=DEFAULT_BINS)["x"]
    same = column_drift("x", profile, numbers("x", [3.0] * 9), ColumnOptions(), LIMITS)
    assert (same["score"], same["drifted"], same["p_value"]) == (0.0, False, None)
    moved = column_drift("x", profile, numbers("x", [3.0, 3.5]), ColumnOptions(), LIMITS)
    assert (moved["score"], moved["finite"], moved["drifted"]) == (None, False, True)
    assert moved["outside_share"] == 0.5


def test_kl_against_an_empty_reference_cell_is_infinite_reported_and_drifted() -> None:
    found = drift_of(
        labels("c", ["a", "b"] * 10), labels("c", ["a", "b", "new"]), ColumnOptions("kl")
    )
    assert (found["score"], found["finite"], found["drifted"]) == (None, False, True)
    assert found["unit"] == "nat" and found["threshold"] == 0.1


def test_the_p_value_is_the_chi_square_test_of_homogeneity_over_cells_used() -> None:
    rng = np.random.default_rng(13)
    found = drift_of(numbers("x", rng.normal(size=800)), numbers("x", rng.normal(size=700)))
    cells = np.array([found["cells"]["reference"], found["cells"]["current"]])
    cells = cells[:, cells.sum(axis=0) > 0]
    expected = stats.chi2_contingency(cells, correction=False).pvalue
    assert found["p_value"] == pytest.approx(expected, rel=1e-12)
    assert 0 < found["p_value"] <= 1


def _numeric_scores(shift: float, scale: float) -> list[float]:
    scores = []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        found = drift_of(
            numbers("x", rng.normal(size=ROWS)), numbers("x", rng.normal(shift, scale, ROWS))
        )
        scores.append(found["score"] if found["drifted"] else -found["score"])
    return scores


def test_the_default_does_not_flag_an_unchanged_numeric_column_in_any_seed() -> None:
    scores = _numeric_scores(0.0, 1.0)
    assert all(s < 0 for s in scores), scores  # measured: at most 0.025 (threshold 0.1)


@pytest.mark.parametrize(("shift", "scale"), [(0.5, 1.0), (0.0, 2.0)])
def test_the_default_flags_a_half_sd_shift_and_a_doubled_scale_in_every_seed(
    shift: float, scale: float
) -> None:
    scores = _numeric_scores(shift, scale)
    assert all(s > 0 for s in scores), scores  # measured: at least 0.47 and 0.78


def _categorical(shares: np.ndarray, seed: int, unseen: float = 0.0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    reference = rng.choice(CATEGORIES, ROWS, p=SHARES)
    current = rng.choice(CATEGORIES, ROWS, p=shares).astype("<U3")
    current[rng.random(ROWS) < unseen] = "new"
    return drift_of(labels("c", reference), labels("c", current))


def test_the_default_does_not_flag_an_unchanged_categorical_column_in_any_seed() -> None:
    found = [_categorical(SHARES, seed) for seed in SEEDS]
    assert not any(f["drifted"] for f in found), [f["score"] for f in found]  # at most 0.017


def test_the_default_flags_reshuffled_category_shares_in_every_seed() -> None:
    reshuffled = SHARES[[1, 0, 3, 2, 5, 4]]  # neighbours swapped: js distance 0.156
    found = [_categorical(reshuffled, seed) for seed in SEEDS]
    assert all(f["drifted"] for f in found), [f["score"] for f in found]


def test_the_default_flags_a_tenth_of_rows_in_an_unseen_category_and_lists_it() -> None:
    for seed in SEEDS:
        found = _categorical(SHARES, seed, unseen=0.1)
        assert found["drifted"], found["score"]  # measured: at least 0.22
        [unseen] = found["unseen"]
        assert unseen["category"] == "new"
        assert unseen["count"] == found["cells"]["current"][-1]
        assert found["unseen_share"] == pytest.approx(0.1, abs=0.01)


def _table(*columns: Column) -> Table:
    return {column.name: column for column in columns}


def test_the_dataset_drifts_when_the_share_of_drifted_columns_reaches_drift_share() -> None:
    rng = np.random.default_rng(14)
    reference = _table(
        numbers("a", rng.normal(size=2_000)),
        numbers("b", rng.normal(size=2_000)),
        labels("c", rng.choice(CATEGORIES, 2_000)),
    )
    profile = build_profile(reference, kinds={}, bins=DEFAULT_BINS)
    current = _table(
        numbers("a", rng.normal(1.0, 1.0, 2_000)),
        numbers("b", rng.normal(size=2_000)),
        labels("c", rng.choice(CATEGORIES, 2_000)),
        labels("extra", ["u"] * 2_000),
    )
    found = drift(profile, current, {}, 0.3, LIMITS)
    assert [found["columns"][n]["drifted"] for n in "abc"] == [True, False, False]
    assert found["dataset"] == {
        "drift": True,
        "drifted_share": 1 / 3,
        "drift_share": 0.3,
        "drifted_columns": 1,
        "columns": 3,
    }
    assert found["ignored"] == ["extra"]
    assert drift(profile, current, {}, 0.5, LIMITS)["dataset"]["drift"] is False
    assert dataset_drift({}, 0.5)["drift"] is False


def test_options_choose_method_threshold_and_prior_per_column() -> None:
    rng = np.random.default_rng(15)
    reference = {"x": numbers("x", rng.normal(size=1_000))}
    profile = build_profile(reference, kinds={}, bins=DEFAULT_BINS)
    options = {"x": ColumnOptions(method="hellinger", threshold=0.0)}
    found = drift(profile, reference, options, 0.5, LIMITS)["columns"]["x"]
    assert (found["method"], found["threshold"], found["drifted"]) == ("hellinger", 0.0, True)
    assert found["score"] == pytest.approx(0.0, abs=1e-12) and found["unit"] == "none"


def test_numbers_given_to_a_categorical_profile_are_read_as_labels() -> None:
    found = drift_of(numbers("c", [1, 2, 2, 3] * 5), numbers("c", [1, 2, 2, 7]))
    assert found["kind"] == "categorical"
    assert found["labels"] == ["2", "1", "3", "7"]
    assert found["unseen"] == [{"category": "7", "count": 1}]


def _refused(profile: dict, table: Table, options: dict[str, ColumnOptions]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        drift(profile, table, options, 0.5, LIMITS)
    return caught.value


def test_a_profiled_column_missing_from_the_table_is_refused_naming_it() -> None:
    profile = profile_of(numbers("x", [0.5, 1.5]), labels("c", ["a"]))
    error = _refused(profile, {"x": numbers("x", [0.5])}, {})
    assert error.loc == ("body", "columns", "c")
    assert error.msg == "the profile has column 'c'; the table does not"


def test_options_for_a_column_not_in_the_profile_are_refused() -> None:
    profile = profile_of(numbers("x", [0.5, 1.5]))
    error = _refused(profile, {"x": numbers("x", [0.5])}, {"y": ColumnOptions("kl")})
    assert error.loc == ("body", "methods", "y")


@pytest.mark.parametrize(
    ("column", "method", "field"),
    [
        ("c", "wasserstein", "method"),
        ("x", "energy", "method"),
        ("x", "renyi", "method"),
        ("x", "entropy", "method"),
    ],
)
def test_methods_that_cannot_score_the_column_are_refused_at_their_option(
    column: str, method: str, field: str
) -> None:
    profile = profile_of(numbers("x", [0.5, 1.5]), labels("c", ["a"]))
    table = {"x": numbers("x", [0.5]), "c": labels("c", ["a"])}
    error = _refused(profile, table, {column: ColumnOptions(method)})
    assert error.loc == ("body", "methods", column, field)
    if method != "wasserstein":
        assert ", ".join(METHODS) in error.msg


def test_a_bad_threshold_or_prior_is_refused_at_its_option() -> None:
    profile = profile_of(numbers("x", [0.5, 1.5]))
    table = {"x": numbers("x", [0.5])}
    error = _refused(profile, table, {"x": ColumnOptions(threshold=-1.0)})
    assert error.loc == ("body", "methods", "x", "threshold")
    error = _refused(profile, table, {"x": ColumnOptions(prior="uniform")})
    assert error.loc == ("body", "methods", "x", "prior")


def test_strings_given_to_a_numeric_profile_column_are_refused_naming_it() -> None:
    profile = profile_of(numbers("x", [0.5, 1.5]))
    error = _refused(profile, {"x": labels("x", ["a"])}, {})
    assert error.loc == ("body", "columns", "x")
    assert "numeric" in error.msg


def test_more_cells_than_the_vector_limit_is_too_large() -> None:
    small = Limits(max_vector_length=4, max_batch_rows=10, sum_tolerance=1e-6)
    profile = profile_of(labels("c", ["a", "b"]))["c"]
    with pytest.raises(InputTooLarge) as caught:
        column_drift("c", profile, labels("c", list("abcde")), ColumnOptions(), small)
    assert caught.value.loc == ("body", "columns", "c")


def test_the_method_list_holds_psi_wasserstein_and_parameterless_two_sided_members() -> None:
    assert METHODS[:2] == ("wasserstein", "psi")
    assert {"js_distance", "kl", "jeffreys", "hellinger", "total_variation"} <= set(METHODS)
    assert not {"renyi", "alpha", "entropy"} & set(METHODS)


def test_a_value_beyond_the_reference_range_counts_in_the_outer_bin() -> None:
    reference = numbers("x", np.linspace(0.0, 1.0, 1_001))
    current = numbers("x", [*np.linspace(0.0, 1.0, 999), 1.5])
    bare = drift_of(reference, current, ColumnOptions("psi"))
    assert bare["finite"] and not bare["drifted"] and bare["outside_share"] == 0.001


def test_against_a_constant_reference_any_other_value_makes_psi_infinite() -> None:
    reference = numbers("x", np.full(100, 3.0))
    assert drift_of(reference, numbers("x", np.full(50, 3.0)), ColumnOptions("psi"))["score"] == 0
    moved = drift_of(reference, numbers("x", [3.0] * 49 + [4.0]), ColumnOptions("psi"))
    assert (moved["score"], moved["finite"], moved["drifted"]) == (None, False, True)


@pytest.mark.parametrize(("n", "m"), [(1, 1000), (7, 5), (300, 1000), (12_345, 1000), (5000, 7)])
def test_the_wasserstein_pass_equals_scipys_for_any_counts_of_values_and_atoms(
    n: int, m: int
) -> None:
    rng = np.random.default_rng(n + m)
    values = np.sort(np.round(rng.normal(size=n), 1))
    atoms = rng.gamma(2.0, size=m)
    expected = stats.wasserstein_distance(values, atoms)
    assert wasserstein_to_atoms(values, atoms) == pytest.approx(expected, rel=1e-12)
