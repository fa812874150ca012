"""Reference profiles: the kind of each column, its bins, quantiles and categories."""

from collections.abc import Sequence

import numpy as np
import pytest

from service.core.errors import InvalidInput
from service.samples.profiles import (
    CATEGORICAL,
    DEFAULT_BINS,
    LEVELS,
    MAX_CATEGORIES,
    NUMERIC,
    QUANTILE_LEVELS,
    build_profile,
    cells,
    infer_kind,
    sorted_cells,
    sorted_quantiles,
)
from service.samples.tables import Column, Table


def numbers(name: str, values: Sequence[float] | np.ndarray) -> Column:
    """A column of numbers, as the readers of :mod:`service.samples.tables` make it."""
    array = np.asarray(values, dtype=np.float64)
    return Column(name, array, (), None, bool((np.trunc(array) == array).all()))


def labels(name: str, values: Sequence[str] | np.ndarray) -> Column:
    """A column of strings, as the readers make it: distinct labels and their counts."""
    found, counts = np.unique(np.asarray(values, dtype=str), return_counts=True)
    return Column(name, None, tuple(found.tolist()), counts.astype(np.int64), False)


def profile_of(*columns: Column, bins: int = DEFAULT_BINS, **kinds: str) -> dict[str, dict]:
    table: Table = {column.name: column for column in columns}
    return build_profile(table, kinds=kinds, bins=bins)


def test_strings_are_categorical_floats_numeric_and_few_integers_codes() -> None:
    rng = np.random.default_rng(1)
    assert infer_kind(labels("s", ["a", "b", "a"])) == CATEGORICAL
    assert infer_kind(numbers("f", rng.normal(size=100))) == NUMERIC
    assert infer_kind(numbers("rating", rng.integers(1, 21, size=500))) == CATEGORICAL
    assert infer_kind(numbers("count", np.arange(21))) == NUMERIC
    assert infer_kind(numbers("halves", np.arange(10) / 2)) == NUMERIC


def test_kinds_override_the_inferred_kind() -> None:
    codes = numbers("codes", [1, 2, 2, 3, 3, 3] * 5)
    floats = numbers("floats", [0.5, 0.5, 1.25] * 10)
    inferred = profile_of(codes, floats)
    assert inferred["codes"]["kind"] == CATEGORICAL
    assert inferred["codes"]["categories"] == ["3", "2", "1"]
    assert inferred["floats"]["kind"] == NUMERIC
    overridden = profile_of(codes, floats, codes=NUMERIC, floats=CATEGORICAL)
    assert overridden["codes"]["kind"] == NUMERIC
    assert overridden["floats"] == {
        "kind": CATEGORICAL,
        "rows": 30,
        "categories": ["0.5", "1.25"],
        "counts": [20, 10],
    }


def test_few_integers_in_a_small_table_are_numbers_not_codes() -> None:
    # Ten ages in ten rows: each value seen once, not the 5 times a code is on average.
    assert profile_of(numbers("age", range(30, 40)))["age"]["kind"] == NUMERIC
    assert profile_of(numbers("age", list(range(30, 40)) * 5))["age"]["kind"] == CATEGORICAL


def test_strings_asked_to_be_numeric_are_refused_naming_the_column() -> None:
    with pytest.raises(InvalidInput) as caught:
        profile_of(labels("city", ["a", "b"]), city=NUMERIC)
    assert caught.value.loc == ("body", "kinds", "city")
    assert "city" in caught.value.msg


def test_a_kind_for_a_column_the_table_lacks_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        profile_of(numbers("x", [1.5, 2.5]), y=NUMERIC)
    assert caught.value.loc == ("body", "kinds", "y")


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        profile_of(numbers("x", [1.5, 2.5]), x="ordinal")
    assert caught.value.loc == ("body", "kinds", "x")


def test_a_numeric_profile_holds_numpys_quantiles_histogram_and_moments() -> None:
    values = np.random.default_rng(2).gamma(2.0, size=5_001)
    found = profile_of(numbers("x", values))["x"]
    edges = np.quantile(values, np.linspace(0, 1, DEFAULT_BINS + 1))
    np.testing.assert_allclose(found["edges"], edges, rtol=1e-15, atol=0)
    assert found["counts"] == np.histogram(values, edges)[0].tolist()
    assert len(found["quantiles"]) == QUANTILE_LEVELS
    np.testing.assert_allclose(found["quantiles"], np.quantile(values, LEVELS), rtol=1e-15)
    assert found["rows"] == 5_001
    assert found["mean"] == pytest.approx(np.mean(values), rel=1e-14)
    assert found["std"] == pytest.approx(np.std(values), rel=1e-14)
    assert (found["min"], found["max"]) == (values.min(), values.max())
    assert found["median"] == np.median(values)


@pytest.mark.parametrize("n", [1, 2, 3, 10, 1_001])
def test_quantiles_of_sorted_values_are_numpys_to_the_last_bit(n: int) -> None:
    ordered = np.sort(np.random.default_rng(n).normal(size=n) * 1e3)
    levels = np.concatenate([[0.0, 1.0], LEVELS, np.linspace(0, 1, 21)])
    np.testing.assert_array_equal(sorted_quantiles(ordered, levels), np.quantile(ordered, levels))


def test_ties_merge_repeated_edges_into_fewer_wider_bins() -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([np.zeros(600), rng.normal(size=400)])  # 60% of rows at 0
    found = profile_of(numbers("x", values))["x"]
    edges = np.array(found["edges"])
    assert (np.diff(edges) > 0).all()
    assert len(edges) < DEFAULT_BINS + 1
    np.testing.assert_array_equal(edges, np.unique(np.quantile(values, np.linspace(0, 1, 21))))
    assert found["counts"] == np.histogram(values, edges)[0].tolist()
    assert sum(found["counts"]) == 1_000


def test_a_constant_column_has_the_edges_v_v_and_one_bin_of_every_row() -> None:
    found = profile_of(numbers("x", [2.5] * 7))["x"]
    assert found["edges"] == [2.5, 2.5]
    assert found["counts"] == [7]
    assert found["quantiles"] == [2.5] * QUANTILE_LEVELS
    assert (found["std"], found["min"], found["median"]) == (0.0, 2.5, 2.5)


def test_categories_are_sorted_by_count_then_label() -> None:
    found = profile_of(labels("c", ["b", "a", "c", "c", "b", "d"]))["c"]
    assert found == {
        "kind": CATEGORICAL,
        "rows": 6,
        "categories": ["b", "c", "a", "d"],
        "counts": [2, 2, 1, 1],
    }


def test_more_distinct_values_than_max_categories_are_refused() -> None:
    allowed = [f"id{i}" for i in range(MAX_CATEGORIES)]
    assert len(profile_of(labels("id", allowed))["id"]["categories"]) == MAX_CATEGORIES
    with pytest.raises(InvalidInput) as caught:
        profile_of(labels("id", [*allowed, "one more"]))
    assert caught.value.loc == ("body", "columns", "id")
    assert str(MAX_CATEGORIES) in caught.value.msg
    floats = np.random.default_rng(4).normal(size=MAX_CATEGORIES + 1)
    with pytest.raises(InvalidInput, match="declare it numeric"):
        profile_of(numbers("x", floats), x=CATEGORICAL)


def test_numbers_whose_squares_overflow_are_refused_not_profiled_as_infinity() -> None:
    with pytest.raises(InvalidInput) as caught:
        profile_of(numbers("big", [1e200, -1e200, 3e200]), big=NUMERIC)
    assert caught.value.loc == ("body", "columns", "big")


def test_fewer_than_one_bin_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        profile_of(numbers("x", [1.5, 2.5]), bins=0)
    assert caught.value.loc == ("body", "bins")


def test_a_profile_keeps_the_tables_column_order() -> None:
    found = profile_of(labels("b", ["u"]), numbers("a", [0.5, 1.5]))
    assert list(found) == ["b", "a"]


@pytest.mark.parametrize(
    "edges", [[-2.0, 0.0, 1.0, 3.0], [0.0, 3.0], [1.0, 1.0], [-9.0, -8.0]], ids=str
)
def test_cells_are_numpys_histogram_between_a_cell_below_and_a_cell_above(
    edges: list[float],
) -> None:
    values = np.random.default_rng(5).integers(-4, 5, size=2_000).astype(float)  # on edges
    bounds = np.array(edges)
    inside = (
        [np.count_nonzero(values == bounds[0])]
        if bounds[0] == bounds[-1]
        else np.histogram(values, bounds)[0].tolist()
    )
    expected = [np.sum(values < bounds[0]), *inside, np.sum(values > bounds[-1])]
    assert cells(values, bounds).tolist() == expected
    assert sorted_cells(np.sort(values), bounds).tolist() == expected
