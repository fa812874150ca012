"""The TensorFlow batch kernels' two paths (XLA chunks for large batches, one graph for
small ones) against numpy, on ordinary rows and on the rows numpy decides: infinite terms,
subnormal elements, ratios outside float64's normal range."""

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.divergences import formulas, tf_formulas
from service.divergences.catalog import DIVERGENCES, formula
from tests.divergences.test_tensorflow_path import agree
from tests.strategies import distribution_pairs

TINY = np.finfo(np.float64).tiny
COLUMNS = 4
# With chunks of 64 elements and 4 columns, a chunk is 16 rows and a small one 4: 37 rows
# are two big chunks, a small one and a padded small one (1 row and 3 dropped).
ROWS = 37


@pytest.fixture
def small_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[tuple[str, int, int, int], object]]:
    """Every batch takes the XLA path, in chunks of 64 elements; a compile cache of its own."""
    compiled: dict[tuple[str, int, int, int], object] = {}
    monkeypatch.setattr(tf_formulas, "CHUNK_ELEMENTS", 64)
    monkeypatch.setattr(tf_formulas, "XLA_MIN_ELEMENTS", 1)
    monkeypatch.setattr(tf_formulas, "MAX_COMPILED", 10_000)
    monkeypatch.setattr(tf_formulas, "_COMPILED", compiled)
    yield compiled


def batch(rows: int = ROWS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random distributions, with special rows among them at fixed places."""
    rng = np.random.default_rng(seed)
    p, q = rng.random((rows, COLUMNS)), rng.random((rows, COLUMNS))
    p[3, 1] = 0.0  # p_i = 0: no contribution
    q[5, 2] = 0.0  # p_i > 0 = q_i: infinite
    p[7, 0] = 0.0  # disjoint supports with row 7 of q below
    p[7, 1] = 0.0
    q[7, 2:] = 0.0
    q[11, 3] = 1e-310  # subnormal q_i: TensorFlow would flush it to 0
    p[20, 0] = 1e-310  # subnormal p_i
    p, q = p / p.sum(axis=1, keepdims=True), q / q.sum(axis=1, keepdims=True)
    p[30, 0], q[30, 0] = 1e-300, 1e10  # p/q underflows: numpy's log p - log q
    p[33, 0], q[33, 0] = 1e300, 1e-10  # p/q overflows with q > 0: finite on both paths
    return p, q


def args_of(name: str) -> tuple[float, ...]:
    return (0.5,) if name == "renyi" else ()


def numpy_values(name: str, p: np.ndarray, q: np.ndarray, *args: float) -> np.ndarray:
    p, q = np.broadcast_arrays(p, q)  # the numpy path takes one q row per p row
    with np.errstate(all="ignore"):  # (p - q)^2 / q overflows in some special rows
        return np.asarray(formula(DIVERGENCES[name], "numpy")(p, q, *args))


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
@pytest.mark.parametrize("one_q_row", [False, True])
def test_the_xla_chunks_give_the_numpy_values(
    small_chunks: dict[tuple[str, int, int, int], object], name: str, one_q_row: bool
) -> None:
    p, q = batch()
    if one_q_row:
        q = q[11:12]  # the subnormal row, against every p row
    args = args_of(name)
    got = formula(DIVERGENCES[name], "tensorflow").values(p, q, *args)
    assert agree(numpy_values(name, p, q, *args), got)
    compiled = {(rows, rows_q) for (n, rows, columns, rows_q) in small_chunks if n == name}
    assert compiled == {(16, 1 if one_q_row else 16), (4, 1 if one_q_row else 4)}


def test_rows_the_kernel_cannot_decide_are_numpys_exactly(
    small_chunks: dict[tuple[str, int, int, int], object],
) -> None:
    p, q = batch()
    got = tf_formulas.kl.values(p, q)
    expected = formulas.kl(p, q)
    for row in (11, 20, 30, 33):  # subnormal q, subnormal p, underflow, overflow
        assert got[row] == expected[row], row
    assert np.isinf(got[5]) and np.isinf(got[7])
    assert np.isfinite(got[[11, 30, 33]]).all()


@pytest.mark.parametrize("rows", [1, 2, 3, 15, 16, 17, 33, 64])
def test_any_number_of_rows_gives_every_row_once(
    small_chunks: dict[tuple[str, int, int, int], object], rows: int
) -> None:
    p, q = batch(max(rows, ROWS), seed=rows)
    p, q = p[:rows], q[:rows]
    assert agree(formulas.js(p, q), tf_formulas.js.values(p, q))


def at_offset(x: np.ndarray, offset: int) -> np.ndarray:
    """A copy of ``x`` starting ``offset`` float64s into a fresh buffer."""
    buffer = np.zeros(x.size + 8)
    out = buffer[offset : offset + x.size].reshape(x.shape)
    out[...] = x
    return out


def test_chunks_read_in_place_at_any_alignment_give_the_copied_chunks_values(
    small_chunks: dict[tuple[str, int, int, int], object],
) -> None:
    """Windows of the caller's arrays (any start modulo 64 bytes) and staged copies
    (read-only or non-contiguous arrays) run the same kernel: the same values, bit for bit."""
    p, q = batch(64, seed=3)
    read_only_p, read_only_q = p.copy(), q.copy()
    read_only_p.flags.writeable = read_only_q.flags.writeable = False
    copied = tf_formulas.kl.values(read_only_p, read_only_q)
    assert agree(formulas.kl(p, q), copied)
    fortran = tf_formulas.kl.values(np.asfortranarray(p), np.asfortranarray(q))
    assert np.array_equal(copied, fortran, equal_nan=True)
    for offset in range(8):
        got = tf_formulas.kl.values(at_offset(p, offset), at_offset(q, 7 - offset))
        assert np.array_equal(copied, got, equal_nan=True), offset


def test_subnormal_elements_on_the_graph_path_give_the_numpy_values() -> None:
    p = np.array([[0.5, 0.5], [1e-310, 1 - 1e-310], [0.5, 0.5]])
    q = np.array([[1 - 1e-310, 1e-310], [0.5, 0.5], [1.0, 0.0]])
    for name in ("kl", "reverse_kl", "jeffreys", "chi_square", "bhattacharyya"):
        got = formula(DIVERGENCES[name], "tensorflow").values(p, q)
        assert agree(numpy_values(name, p, q), got), name
    assert np.isfinite(tf_formulas.kl.values(p, q)[0])  # 356.2..., not inf


def test_past_the_compile_budget_new_shapes_take_the_graph_path(
    small_chunks: dict[tuple[str, int, int, int], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    p, q = batch()
    tf_formulas.kl.values(p, q)
    monkeypatch.setattr(tf_formulas, "MAX_COMPILED", len(small_chunks))
    before = dict(small_chunks)
    wider_p = np.hstack([p, p]) / 2
    wider_q = np.hstack([q, q]) / 2
    assert agree(formulas.kl(wider_p, wider_q), tf_formulas.kl.values(wider_p, wider_q))
    assert small_chunks == before
    assert agree(formulas.kl(p, q), tf_formulas.kl.values(p, q))  # compiled shapes still serve


def test_renyi_of_order_one_is_kl_on_the_xla_path(
    small_chunks: dict[tuple[str, int, int, int], object],
) -> None:
    p, q = batch()
    assert agree(tf_formulas.kl.values(p, q), tf_formulas.renyi.values(p, q, 1.0))


def test_a_default_sized_batch_takes_the_xla_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """100 columns, enough rows for the default threshold: chunks of 4096 and 1024 rows."""
    monkeypatch.setattr(tf_formulas, "_COMPILED", {})
    rng = np.random.default_rng(1)
    rows = tf_formulas.XLA_MIN_ELEMENTS // 100 + 777
    p, q = rng.random((rows, 100)), rng.random((rows, 100))
    p, q = p / p.sum(axis=1, keepdims=True), q / q.sum(axis=1, keepdims=True)
    assert agree(formulas.kl(p, q), tf_formulas.kl.values(p, q))
    assert tf_formulas.chunk_rows(100) == (4096, 1024)
    assert ("kl", 4096, 100, 4096) in tf_formulas._COMPILED
    assert ("kl", 1024, 100, 1024) in tf_formulas._COMPILED


_HYPOTHESIS_COMPILED: dict[tuple[str, int, int, int], object] = {}


@settings(deadline=None, max_examples=25)
@given(distribution_pairs(rows=3), st.sampled_from(["kl", "js", "hellinger", "chi_square"]))
def test_xla_chunks_and_numpy_agree_on_any_distributions(
    pair: tuple[np.ndarray, np.ndarray], name: str
) -> None:
    p, q = (np.tile(x, (13, 1)) for x in pair)  # 39 rows: chunks of every kind
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tf_formulas, "CHUNK_ELEMENTS", 16 * p.shape[1])
        patch.setattr(tf_formulas, "XLA_MIN_ELEMENTS", 1)
        patch.setattr(tf_formulas, "MAX_COMPILED", 10_000)
        patch.setattr(tf_formulas, "_COMPILED", _HYPOTHESIS_COMPILED)
        got = formula(DIVERGENCES[name], "tensorflow").values(p, q)
    assert agree(numpy_values(name, p, q), got)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (3, [(0, 3, 4)]),
        (9, [(0, 4, 4), (4, 8, 4), (8, 9, 4)]),
        (20, [(0, 4, 4), (4, 20, 16)]),
        (37, [(0, 4, 4), (4, 20, 16), (20, 36, 16), (36, 37, 4)]),
    ],
)
def test_the_plan_covers_every_row_once_with_a_small_chunk_first(
    rows: int, expected: list[tuple[int, int, int]]
) -> None:
    assert tf_formulas._plan(rows, 16, 4) == expected


def test_without_the_flat_entry_point_the_public_call_is_kept() -> None:
    class Public:  # a concrete function as TensorFlow might one day give it
        captured_inputs = ()

        def __call__(self, *args: object) -> object:
            return tf_formulas.tf.constant([1.0])

    public = Public()
    spec = tf_formulas.tf.TensorSpec([1], tf_formulas.tf.float64)
    assert tf_formulas._quick_caller(public, [spec]) is public


def test_chi_square_is_infinite_where_p_is_positive_and_q_zero_even_if_p_squared_underflows(
    small_chunks: dict[tuple[str, int, int, int], object],
) -> None:
    p = np.array([[1e-300, 1.0, 0.0], [0.5, 0.5, 0.0]])
    q = np.array([[0.0, 0.5, 0.5], [0.5, 0.0, 0.5]])
    assert np.isinf(tf_formulas.chi_square.values(p, q)).all()  # XLA chunks
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tf_formulas, "XLA_MIN_ELEMENTS", 10**9)
        assert np.isinf(tf_formulas.chi_square.values(p, q)).all()  # the graph
