"""The TensorFlow batch kernels' two paths (XLA chunks for large batches, one graph for
small ones) against numpy, on ordinary rows and on the rows numpy decides: infinite terms,
subnormal elements, ratios outside float64's normal range. The tests of the values run
both ways: fast paths on (every batch in XLA chunks of 64 elements) and off (``xla=False``,
as ``DIVERGENCE_FAST_PATHS=false`` runs every batch: the plain graph, nothing compiled)."""

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.divergences import formulas
from service.divergences.catalog import DIVERGENCES, formula
from service.divergences.tf import chunks, engine, kernels
from tests.divergences.test_tensorflow_path import agree, fast_paths
from tests.strategies import distribution_pairs

TINY = np.finfo(np.float64).tiny
COLUMNS = 4
# With chunks of 64 elements and 4 columns, a chunk is 16 rows and a small one 4: 37 rows
# are two big chunks, a small one and a padded small one (1 row and 3 dropped).
ROWS = 37


Compiled = dict[tuple[str, int, int, int], object]


@pytest.fixture
def compiled() -> Compiled:
    """A compile cache of the test's own."""
    return {}


@pytest.fixture
def small_chunks(compiled: Compiled) -> Iterator[Compiled]:
    """Every batch takes the XLA path, in chunks of 64 elements, compiled into ``compiled``."""
    with fast_paths(True, compiled):
        yield compiled


@pytest.fixture(params=[True, False], ids=["fast paths on", "off"])
def fast(request: pytest.FixtureRequest, compiled: Compiled) -> Iterator[bool]:
    """Both ways, the switch set as the kernels are then told (``xla=``): on, every batch
    in XLA chunks of 64 elements, compiled into ``compiled``; off, the plain graph."""
    with fast_paths(request.param, compiled):
        yield request.param


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
    return tuple(0.5 for _ in DIVERGENCES[name].parameters)


def numpy_values(name: str, p: np.ndarray, q: np.ndarray, *args: float) -> np.ndarray:
    p, q = np.broadcast_arrays(p, q)  # the numpy path takes one q row per p row
    with np.errstate(all="ignore"):  # (p - q)^2 / q overflows in some special rows
        return np.asarray(formula(DIVERGENCES[name], "numpy")(p, q, *args))


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
@pytest.mark.parametrize("one_q_row", [False, True])
def test_the_xla_chunks_and_the_plain_graph_give_the_numpy_values(
    compiled: Compiled, fast: bool, name: str, one_q_row: bool
) -> None:
    p, q = batch()
    if one_q_row:
        q = q[11:12]  # the subnormal row, against every p row
    args = args_of(name)
    got = formula(DIVERGENCES[name], "tensorflow").values(p, q, *args, xla=fast)
    assert agree(numpy_values(name, p, q, *args), got)
    shapes = {(rows, one_q) for (n, rows, columns, one_q) in compiled if n == name}
    chunk_shapes = {(16, one_q_row), (4, one_q_row)}
    assert shapes == (chunk_shapes if fast else set())


def test_rows_the_kernel_cannot_decide_are_numpys_exactly(fast: bool) -> None:
    p, q = batch()
    got = kernels.kl.values(p, q, xla=fast)
    expected = formulas.kl(p, q)
    for row in (11, 20, 30, 33):  # subnormal q, subnormal p, underflow, overflow
        assert got[row] == expected[row], row
    assert np.isinf(got[5]) and np.isinf(got[7])
    assert np.isfinite(got[[11, 30, 33]]).all()


@pytest.mark.parametrize("rows", [1, 2, 3, 15, 16, 17, 33, 64])
def test_any_number_of_rows_gives_every_row_once(fast: bool, rows: int) -> None:
    p, q = batch(max(rows, ROWS), seed=rows)
    p, q = p[:rows], q[:rows]
    assert agree(formulas.js(p, q), kernels.js.values(p, q, xla=fast))


def at_offset(x: np.ndarray, offset: int) -> np.ndarray:
    """A copy of ``x`` starting ``offset`` float64s into a fresh buffer."""
    buffer = np.zeros(x.size + 8)
    out = buffer[offset : offset + x.size].reshape(x.shape)
    out[...] = x
    return out


def test_chunks_read_in_place_at_any_alignment_give_the_copied_chunks_values(
    fast: bool,
) -> None:
    """Windows of the caller's arrays (any start modulo 64 bytes) and staged copies
    (read-only or non-contiguous arrays) run the same kernel: the same values, bit for bit
    (and so do such arrays on the plain graph)."""
    p, q = batch(64, seed=3)
    read_only_p, read_only_q = p.copy(), q.copy()
    read_only_p.flags.writeable = read_only_q.flags.writeable = False
    copied = kernels.kl.values(read_only_p, read_only_q, xla=fast)
    assert agree(formulas.kl(p, q), copied)
    fortran = kernels.kl.values(np.asfortranarray(p), np.asfortranarray(q), xla=fast)
    assert np.array_equal(copied, fortran, equal_nan=True)
    for offset in range(8):
        got = kernels.kl.values(at_offset(p, offset), at_offset(q, 7 - offset), xla=fast)
        assert np.array_equal(copied, got, equal_nan=True), offset


def test_subnormal_elements_on_the_graph_path_give_the_numpy_values() -> None:
    p = np.array([[0.5, 0.5], [1e-310, 1 - 1e-310], [0.5, 0.5]])
    q = np.array([[1 - 1e-310, 1e-310], [0.5, 0.5], [1.0, 0.0]])
    for name in ("kl", "reverse_kl", "jeffreys", "chi_square", "bhattacharyya"):
        got = formula(DIVERGENCES[name], "tensorflow").values(p, q)
        assert agree(numpy_values(name, p, q), got), name
    assert np.isfinite(kernels.kl.values(p, q)[0])  # 356.2..., not inf


def test_past_the_compile_budget_new_shapes_take_the_graph_path(
    small_chunks: Compiled, monkeypatch: pytest.MonkeyPatch
) -> None:
    p, q = batch()
    kernels.kl.values(p, q)
    monkeypatch.setattr(engine, "MAX_COMPILED", len(small_chunks))
    before = dict(small_chunks)
    wider_p = np.hstack([p, p]) / 2
    wider_q = np.hstack([q, q]) / 2
    assert agree(formulas.kl(wider_p, wider_q), kernels.kl.values(wider_p, wider_q))
    assert small_chunks == before
    assert agree(formulas.kl(p, q), kernels.kl.values(p, q))  # compiled shapes still serve


def test_renyi_of_order_one_is_kl_on_either_path(fast: bool) -> None:
    p, q = batch()
    assert agree(kernels.kl.values(p, q, xla=fast), kernels.renyi.values(p, q, 1.0, xla=fast))


def default_sized_batch() -> tuple[np.ndarray, np.ndarray]:
    """100 columns, enough rows for the default threshold of the XLA path."""
    rng = np.random.default_rng(1)
    rows = engine.XLA_MIN_ELEMENTS // 100 + 777
    p, q = rng.random((rows, 100)), rng.random((rows, 100))
    return p / p.sum(axis=1, keepdims=True), q / q.sum(axis=1, keepdims=True)


def test_a_default_sized_batch_takes_the_xla_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 4096 and 1024 rows, compiled on first use."""
    monkeypatch.setattr(engine, "_COMPILED", {})
    p, q = default_sized_batch()
    assert agree(formulas.kl(p, q), kernels.kl.values(p, q))
    assert chunks.chunk_rows(100) == (4096, 1024)
    assert ("kl", 4096, 100, False) in engine._COMPILED
    assert ("kl", 1024, 100, False) in engine._COMPILED


def test_with_the_fast_paths_off_a_default_sized_batch_compiles_nothing_and_agrees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine, "_COMPILED", {})
    p, q = default_sized_batch()
    plain = kernels.kl.values(p, q, xla=False)
    assert engine._COMPILED == {}
    assert agree(formulas.kl(p, q), plain)
    assert agree(kernels.kl.values(p, q), plain)


_HYPOTHESIS_COMPILED: Compiled = {}


@pytest.mark.parametrize("fast", [True, False], ids=["fast paths on", "off"])
@settings(deadline=None, max_examples=25)
@given(distribution_pairs(rows=3), st.sampled_from(["kl", "js", "hellinger", "chi_square"]))
def test_xla_chunks_the_plain_graph_and_numpy_agree_on_any_distributions(
    fast: bool, pair: tuple[np.ndarray, np.ndarray], name: str
) -> None:
    p, q = (np.tile(x, (13, 1)) for x in pair)  # 39 rows: chunks of every kind
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chunks, "CHUNK_ELEMENTS", 16 * p.shape[1])
        patch.setattr(engine, "XLA_MIN_ELEMENTS", 1)
        patch.setattr(engine, "MAX_COMPILED", 10_000)
        patch.setattr(engine, "_COMPILED", _HYPOTHESIS_COMPILED)
        got = formula(DIVERGENCES[name], "tensorflow").values(p, q, xla=fast)
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
    assert chunks.plan(rows, 16, 4) == expected


def test_chi_square_is_infinite_where_p_is_positive_and_q_zero_even_if_p_squared_underflows(
    fast: bool,
) -> None:
    p = np.array([[1e-300, 1.0, 0.0], [0.5, 0.5, 0.0]])
    q = np.array([[0.0, 0.5, 0.5], [0.5, 0.0, 0.5]])
    assert np.isinf(kernels.chi_square.values(p, q, xla=fast)).all()


def test_a_one_row_chunk_of_one_q_row_and_of_one_q_row_per_p_row_are_compiled_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows so wide that a chunk is one row: one q row for all and one q row per p row
    are different functions, even when both have one row (they shared a cache entry)."""
    monkeypatch.setattr(engine, "_COMPILED", {})
    rng = np.random.default_rng(3)
    wide = chunks.CHUNK_ELEMENTS + 8
    p = rng.dirichlet(np.ones(wide), size=2)
    q = rng.dirichlet(np.ones(wide), size=2)
    single = kernels.kl.values(p[:1], q[:1])
    pair = kernels.kl.values(p, q)
    shared = kernels.kl.values(p, q[:1])
    assert agree(formulas.kl(p[:1], q[:1]), single)
    assert agree(formulas.kl(p, q), pair)
    assert agree(formulas.kl(p, np.broadcast_to(q[:1], p.shape)), shared)
