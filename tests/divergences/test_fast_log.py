"""``fast_log`` against numpy's log and against 120-bit arithmetic (mpmath), eagerly and
compiled by XLA as the kernels' chunks use it, over 5,010,156 float64 values:
4 million random bit patterns over the normal range, the 1,000,000 floats next to 1 on
both sides, 1 +- 2^-j, every power of two, the neighbours of sqrt(2)/2 and sqrt(2) (where
the reduction switches), the smallest normal, the largest finite, 1 and inf. Below the
smallest normal the docstring promises nothing: the callers' part of that bargain is
tested here too (no answer depends on what ``fast_log`` gives there)."""

from collections.abc import Callable

import mpmath
import numpy as np
import pytest
import tensorflow as tf

from service.divergences.catalog import DIVERGENCES, formula
from service.divergences.tf import engine
from service.divergences.tf.fast_log import TINY, fast_log
from tests.divergences.test_tensorflow_chunks import args_of, batch, numpy_values
from tests.divergences.test_tensorflow_path import agree, fast_paths

LARGEST = float(np.finfo(np.float64).max)
RANDOM_VALUES = 4_000_000
STEPS_FROM_ONE = 500_000
STEPS_FROM_SWITCH = 2_000
Log = Callable[[tf.Tensor], tf.Tensor]

_xla_fast_log = tf.function(fast_log, jit_compile=True)
WAYS: dict[str, Log] = {"eager": fast_log, "xla": _xla_fast_log}


def _steps(x: float, steps: int) -> np.ndarray:
    """The ``steps`` floats on each side of ``x`` (``x`` itself left out)."""
    bits = np.float64(x).view(np.int64)
    k = np.arange(1, steps + 1, dtype=np.int64)
    return np.concatenate([bits - k, bits + k]).view(np.float64)


def _inputs() -> np.ndarray:
    rng = np.random.default_rng(20_251_104)
    tiny_bits = np.float64(TINY).view(np.int64)
    largest_bits = np.float64(LARGEST).view(np.int64)
    random = rng.integers(tiny_bits, largest_bits, size=RANDOM_VALUES, endpoint=True)
    j = np.arange(1, 53, dtype=np.float64)
    return np.concatenate(
        [
            random.view(np.float64),
            _steps(1.0, STEPS_FROM_ONE),
            1 + 2**-j,
            1 - 2**-j,
            2.0 ** np.arange(-1022, 1024, dtype=np.float64),
            _steps(2**0.5 / 2, STEPS_FROM_SWITCH),
            _steps(2**0.5, STEPS_FROM_SWITCH),
            [TINY, np.nextafter(TINY, 1.0), np.nextafter(LARGEST, 0.0), LARGEST, 1.0, np.inf],
        ]
    )


@pytest.fixture(scope="module")
def inputs() -> np.ndarray:
    return _inputs()


def _ordered(x: np.ndarray) -> np.ndarray:
    """float64 bits as integers in the order of the floats (-0.0 and 0.0 both 0)."""
    bits = x.view(np.int64)
    return np.where(bits < 0, np.int64(np.iinfo(np.int64).min) - bits, bits)


def ulps_apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How many float64s lie between ``a`` and ``b``, plus one where they differ."""
    return np.abs(_ordered(a) - _ordered(b))


def _values(way: str, x: np.ndarray) -> np.ndarray:
    return np.asarray(WAYS[way](tf.constant(x, tf.float64)).numpy())


@pytest.mark.parametrize("way", WAYS)
def test_fast_log_is_within_one_ulp_of_numpy_over_millions_of_values(
    inputs: np.ndarray, way: str
) -> None:
    got = _values(way, inputs)
    apart = ulps_apart(got, np.log(inputs))
    worst = int(np.argmax(apart))
    assert apart[worst] <= 1, (way, inputs[worst], got[worst], np.log(inputs[worst]))
    assert inputs.size > 5_000_000


@pytest.mark.parametrize("way", WAYS)
def test_where_fast_log_and_numpy_differ_fast_log_is_within_one_ulp_of_the_exact_log(
    inputs: np.ndarray, way: str
) -> None:
    """numpy's log is not exact either: where the two differ (about one value in a
    thousand, some 5,300 here), the exact logarithm decides (worst found: 0.81 ulp)."""
    got = _values(way, inputs)
    reference = np.log(inputs)
    differ = np.flatnonzero(got != reference)
    assert 0 < differ.size < inputs.size // 100
    mpmath.mp.prec = 120
    for i in differ:
        exact = mpmath.log(mpmath.mpf(float(inputs[i])))
        error = abs(mpmath.mpf(float(got[i])) - exact) / np.spacing(abs(float(exact)))
        assert error < 1, (way, inputs[i], got[i], float(error))


@pytest.mark.parametrize("way", WAYS)
def test_fast_log_of_one_is_zero_and_of_inf_is_inf(way: str) -> None:
    got = _values(way, np.array([1.0, np.inf]))
    assert got[0] == 0.0 and not np.signbit(got[0])
    assert got[1] == np.inf


@pytest.mark.parametrize("way", WAYS)
def test_below_the_smallest_normal_fast_log_is_finite_but_promises_nothing_more(way: str) -> None:
    """Zero and subnormals give some finite value (about -709.1 for 0, not -inf): the kernels
    must not let it reach an answer."""
    got = _values(way, np.array([0.0, 5e-324, 1e-310, np.nextafter(TINY, 0.0)]))
    assert np.isfinite(got).all()
    assert got[0] == pytest.approx(-1023 * np.log(2))


def _below_tiny(value: float) -> Log:
    """``fast_log`` giving ``value`` below the smallest normal."""

    def log(x: tf.Tensor) -> tf.Tensor:
        return tf.where(x < TINY, tf.constant(value, tf.float64), fast_log(x))

    return log


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
def test_no_answer_depends_on_what_fast_log_gives_below_the_smallest_normal(name: str) -> None:
    """The XLA chunks over rows with zeros, subnormal elements and ratios that underflow or
    overflow: the same answers, bit for bit, with a log giving +12345 or -12345 below
    ``tiny`` (there the kernels replace the input by 1, or mark the row for numpy), and
    numpy's. (Both logs have one shape of code: XLA compiling the plain ``fast_log`` may
    round ordinary rows' sums differently in the last bit.)"""
    p, q = batch()
    args = args_of(name)
    kernel = formula(DIVERGENCES[name], "tensorflow")
    answers = []
    for value in (12345.0, -12345.0):
        with fast_paths(True, {}), pytest.MonkeyPatch.context() as patch:
            patch.setattr(engine, "fast_log", _below_tiny(value))
            answers.append(kernel.values(p, q, *args))
    assert np.array_equal(answers[0], answers[1], equal_nan=True)
    assert agree(numpy_values(name, p, q, *args), answers[0])
