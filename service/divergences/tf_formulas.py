"""The formulas of :mod:`service.divergences.formulas` in TensorFlow, for batches.

Same contract: float64 matrices whose rows are the distributions (``q`` one row per ``p``
row or a single row for all), values in nats, ``inf`` for an infinite divergence. Each
divergence is a :class:`BatchKernel`: calling it gives a tensor, :meth:`BatchKernel.values`
the numpy array the service answers with (no tensor round trip). Importing this module
imports TensorFlow; only batch kernels and training do.

How a batch is computed:

- Each kernel is written once, fused: every element's term in one pass, with no
  ``tf.cond``. Where TensorFlow cannot compute a term the way the numpy path does, the
  term is NaN, which no divergence of valid inputs is, so it marks its row: a ratio
  ``p/q`` that underflows or overflows float64 (numpy falls back to ``log p - log q``
  there), and any subnormal element (TensorFlow's CPU kernels flush subnormals to zero,
  which made ``p = [.5, .5], q = [1 - 1e-310, 1e-310]`` infinite, not 356.2). Marked rows,
  rare, are then computed by the numpy formula itself: both paths give the same answer
  for them, infinite ones included.
- Large batches (at least ``XLA_MIN_ELEMENTS`` elements) run compiled by XLA
  (``jit_compile=True``) in chunks of two fixed shapes, so compilations are bounded:
  ``big`` rows (the largest power of two with ``big * columns`` at most
  ``CHUNK_ELEMENTS``: 4096 rows of 100 columns) and ``big / 4`` rows (see :func:`_plan`;
  the last chunk is padded with rows that are computed and dropped). A chunk is read in
  place from the caller's arrays through DLPack, as a 64-byte aligned window (what
  TensorFlow requires of a buffer it shares) that starts up to 7 elements before it, the
  kernel slicing the chunk out; the first and last chunks, and arrays numpy cannot share
  (read-only, non-contiguous), are copied into an aligned buffer instead. The logarithm
  is :func:`fast_log` and row sums a matrix-vector product: the whole kernel is then one
  XLA loop. XLA splits it over the intra-op threads itself.
- One compilation per divergence, column count, chunk size and ``q`` layout (one row, or
  one per ``p`` row), on its first use and cached for the life of the process (about
  0.1 s and 2.5 MiB each here): the first large batch of a new column count pays for two.
  At most ``MAX_COMPILED`` of them; past that, new shapes take the small-batch path.
- Smaller batches run through one ``tf.function`` graph traced for float64 matrices of any
  shape (no compilation per shape), with ``tf.math.log``.
- A value below :data:`~service.divergences.near_zero.NEAR_ZERO` marks its row too: there
  the plain formulas may have lost digits to cancellation (nearly equal distributions), and
  the numpy path recomputes the row accurately (:mod:`service.divergences.near_zero`).
"""

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from service.divergences import formulas
from service.divergences.near_zero import NEAR_ZERO

XLA_MIN_ELEMENTS = 1 << 17
CHUNK_ELEMENTS = 1 << 19
MAX_COMPILED = 64
_SMALL_CHUNK_FRACTION = 4
_ALIGN = 64  # bytes; TensorFlow reads a DLPack buffer in place only when it is aligned
_WINDOW_SLACK = _ALIGN // 8 - 1  # elements a window may start before its chunk

_TINY = float(np.finfo(np.float64).tiny)
_SMALLEST_NORMAL_BITS = int(np.float64(_TINY).view(np.int64))
_INF = float("inf")
_NAN = float("nan")
_LN2 = float(np.log(2))
_MATRIX = tf.TensorSpec(shape=[None, None], dtype=tf.float64)
# fdlibm's e_log.c: ln 2 split in two, the coefficients of its polynomial, sqrt(2)'s mantissa.
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_LG = (
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)
_MANTISSA = (1 << 52) - 1
_SQRT2_MANTISSA = 0x6A09E667F3BCD
_EXPONENT_ONE, _EXPONENT_HALF = 0x3FF0000000000000, 0x3FE0000000000000
# The line through (a, 1/a) and (b, 1/b), a = 1 + sqrt(2)/2 <= 2 + f < b = 1 + sqrt(2).
_A, _B = 1 + 2**0.5 / 2, 1 + 2**0.5
_RECIPROCAL_LINE = (1 / _A + 1 / _B, 1 / (_A * _B))
_SCALAR = tf.TensorSpec(shape=[], dtype=tf.float64)

Body = Callable[..., tf.Tensor]
Log = Callable[[tf.Tensor], tf.Tensor]


def fast_log(x: tf.Tensor) -> tf.Tensor:
    """Natural log of float64 ``x`` in ``[tiny, inf]`` (below that: any value), within one ulp.

    fdlibm's algorithm (``e_log.c``: ``x = 2^k m``, ``sqrt(2)/2 <= m < sqrt(2)``,
    ``f = m - 1``, a polynomial in ``s = f / (2 + f)``), in elementwise operations only,
    which XLA fuses into one vectorized loop, where ``tf.math.log`` compiles to a libm call
    per element (2-3x slower). ``1 / (2 + f)`` comes from four Newton steps (from a line
    within 3% of it on that range: 3% -> 1e-3 -> 1e-6 -> 1e-12 -> rounding), not a division:
    XLA keeps a division with several users out of the fused loop, and materializes it.
    """
    bits = tf.bitcast(x, tf.int64)
    mantissa = bits & _MANTISSA
    halve = mantissa > _SQRT2_MANTISSA
    k = tf.bitwise.right_shift(bits, tf.constant(52, tf.int64)) - 1023 + tf.cast(halve, tf.int64)
    exponent = tf.where(
        halve, tf.constant(_EXPONENT_HALF, tf.int64), tf.constant(_EXPONENT_ONE, tf.int64)
    )
    f = tf.bitcast(mantissa | exponent, tf.float64) - 1.0
    d = 2.0 + f
    r = _RECIPROCAL_LINE[0] - _RECIPROCAL_LINE[1] * d
    for _ in range(4):
        r = r * (2.0 - d * r)
    s = f * r
    z = s * s
    w = z * z
    odd = w * (_LG[1] + w * (_LG[3] + w * _LG[5]))
    even = z * (_LG[0] + w * (_LG[2] + w * (_LG[4] + w * _LG[6])))
    half_f_squared = 0.5 * f * f
    dk = tf.cast(k, tf.float64)
    out = dk * _LN2_HI - ((half_f_squared - (s * (half_f_squared + odd + even) + dk * _LN2_LO)) - f)
    return tf.where(x == _INF, x, out)


def _subnormal(x: tf.Tensor) -> tf.Tensor:
    """Where ``x`` (non-negative) is subnormal, read from its bits: a comparison would see 0."""
    bits = tf.bitcast(x, tf.int64)
    return (bits > 0) & (bits < _SMALLEST_NORMAL_BITS)


def _mark(terms: tf.Tensor, *inputs: tf.Tensor) -> tf.Tensor:
    """``terms`` with NaN where an element of one of ``inputs`` is subnormal."""
    unsure = _subnormal(inputs[0])
    for x in inputs[1:]:
        unsure |= _subnormal(x)
    return tf.where(unsure, tf.constant(_NAN, tf.float64), terms)


def log_ratio(p: tf.Tensor, q: tf.Tensor, log: Log = tf.math.log) -> tf.Tensor:
    """``log(p / q)``; 0 where ``p = 0``; ``+inf`` where ``p > 0 = q``; NaN where ``p / q``
    underflows or overflows float64 (the numpy path's ``log p - log q`` fallback)."""
    ratio = tf.where(p > 0, tf.abs(p / q), tf.ones_like(p))  # p / -0.0 is -inf
    inexact = (q > 0) & ((ratio < _TINY) | (ratio == _INF))
    return tf.where(inexact, tf.constant(_NAN, tf.float64), log(ratio))


def _sum(terms: tf.Tensor) -> tf.Tensor:
    """Each row's sum. Where the row length is static (the XLA chunks), a product with a
    vector of ones: XLA compiles ``reduce_sum`` over rows into a second pass over the
    materialized terms (and a third over partial sums), slower by about 0.4 ns an element."""
    columns = terms.shape[-1]
    if columns is None:
        return tf.reduce_sum(terms, axis=-1)
    return tf.linalg.matvec(terms, tf.ones([columns], terms.dtype))


def _near_zero_marked(values: tf.Tensor) -> tf.Tensor:
    """``values`` with NaN where below ``NEAR_ZERO``: the numpy path recomputes those rows."""
    return tf.where(values < NEAR_ZERO, tf.constant(_NAN, tf.float64), values)


def _at_most(values: tf.Tensor, bound: float) -> tf.Tensor:
    """``values`` clipped to ``bound`` from above, NaN (a marked row) kept."""
    return tf.where(values > bound, tf.constant(bound, tf.float64), values)


def _kl(p: tf.Tensor, q: tf.Tensor, log: Log) -> tf.Tensor:
    return _near_zero_marked(_sum(_mark(p * log_ratio(p, q, log), p, q)))


def _entropy(p: tf.Tensor, log: Log) -> tf.Tensor:
    log_p = log(tf.where(p > 0, p, tf.ones_like(p)))
    entropy = -_sum(_mark(p * log_p, p))
    return tf.where(entropy < 0, tf.zeros_like(entropy), entropy)  # only if some p_i > 1


def _cross_entropy(p: tf.Tensor, q: tf.Tensor, log: Log) -> tf.Tensor:
    # -p log q: terms never negative, so no cancellation; held to at least H(p) as numpy does.
    positive = q > 0
    infinite_or_zero = tf.where(p > 0, tf.constant(_INF, tf.float64), tf.zeros_like(p))
    terms = tf.where(positive, -p * log(tf.where(positive, q, tf.ones_like(q))), infinite_or_zero)
    values = _sum(_mark(terms, p, q))
    entropy = _entropy(p, log)
    return tf.where(values < entropy, entropy, values)


def _js(p: tf.Tensor, q: tf.Tensor, log: Log) -> tf.Tensor:
    total = p + q
    values = 0.5 * (
        _sum(_mark(p * log_ratio(2 * p, total, log), p, q)) + _sum(q * log_ratio(2 * q, total, log))
    )
    return _at_most(_near_zero_marked(values), _LN2)


def _not_below_tiny(x: tf.Tensor) -> tf.Tensor:
    """NaN where ``x`` is below the smallest normal float64 (0 included): TensorFlow may have
    flushed a subnormal there; numpy decides those rows."""
    return tf.where(x < _TINY, tf.constant(_NAN, tf.float64), x)


def _hellinger(p: tf.Tensor, q: tf.Tensor, log: Log) -> tf.Tensor:
    # sqrt p - sqrt q as (p - q) / (sqrt p + sqrt q): no cancellation near p = q.
    roots = tf.sqrt(p) + tf.sqrt(q)
    gaps = tf.where(roots > 0, (p - q) / tf.where(roots > 0, roots, 1.0), tf.zeros_like(p))
    return _at_most(tf.sqrt(0.5 * _sum(_mark(gaps * gaps, p, q))), 1.0)


def _total_variation(p: tf.Tensor, q: tf.Tensor, log: Log) -> tf.Tensor:
    return _at_most(0.5 * _sum(_mark(tf.abs(p - q), p, q)), 1.0)


def _bhattacharyya(p: tf.Tensor, q: tf.Tensor, log: Log) -> tf.Tensor:
    coefficient = _not_below_tiny(_sum(_mark(tf.sqrt(p) * tf.sqrt(q), p, q)))
    return _near_zero_marked(-tf.math.log(coefficient))


def _chi_square(p: tf.Tensor, q: tf.Tensor, log: Log) -> tf.Tensor:
    # Infinite where p_i > 0 = q_i even when p_i^2 underflows (p_i below 1.5e-162).
    infinite_or_zero = tf.where(p > 0, tf.constant(_INF, tf.float64), tf.zeros_like(p))
    terms = tf.where(q > 0, (p - q) ** 2 / q, infinite_or_zero)
    return _sum(_mark(terms, p, q))


def _renyi(p: tf.Tensor, q: tf.Tensor, alpha: tf.Tensor, log: Log) -> tf.Tensor:
    # p^a q^(1-a) = p exp((a-1) log(p/q)), as the numpy path computes it.
    power_sum = _sum(_mark(p * tf.exp((alpha - 1) * log_ratio(p, q, log)), p, q))
    return _near_zero_marked(tf.math.log(_not_below_tiny(power_sum)) / (alpha - 1))


def _aligned_zeros(elements: int) -> np.ndarray:
    raw = np.zeros(elements + _ALIGN // 8, dtype=np.float64)
    start = (-raw.ctypes.data % _ALIGN) // 8
    return raw[start : start + elements]


class _Staging(threading.local):
    """Per thread: aligned buffers for the chunks that cannot be read in place."""

    def __init__(self) -> None:
        self.buffers: list[np.ndarray] = []

    def get(self, index: int, elements: int) -> np.ndarray:
        while len(self.buffers) <= index:
            self.buffers.append(_aligned_zeros(0))
        if self.buffers[index].size < elements:
            self.buffers[index] = _aligned_zeros(elements)
        return self.buffers[index]


_STAGING = _Staging()
_COMPILED: dict[tuple[str, int, int, int], Any] = {}
_COMPILED_LOCK = threading.Lock()
_SHIFTS = [tf.constant(i, tf.int32) for i in range(_WINDOW_SLACK + 1)]


def _tensor(flat: np.ndarray) -> tf.Tensor:
    """A tensor reading the 64-byte aligned, contiguous ``flat`` in place (DLPack)."""
    return tf.experimental.dlpack.from_dlpack(flat.__dlpack__())


def _readable_in_place(x: np.ndarray) -> bool:
    """Whether windows of ``x`` can be handed to TensorFlow as they are (DLPack exports
    writable, aligned, contiguous arrays only)."""
    return bool(x.flags.c_contiguous and x.flags.writeable and x.ctypes.data % 8 == 0)


class _Rows:
    """Chunks of one operand (p, or q with one row per p row) as (tensor, shift) pairs: a
    64-byte aligned window of the caller's array that starts ``shift`` elements before the
    chunk, read in place, or, where no such window fits in the array (its first and last
    chunks, the padded one) or the array cannot be shared, a copy in a staging buffer."""

    def __init__(self, x: np.ndarray, columns: int, buffer: np.ndarray):
        self.flat = x.reshape(-1) if _readable_in_place(x) else None
        self.x, self.columns, self.buffer = x, columns, buffer
        self.staged: dict[int, tf.Tensor] = {}

    def chunk(self, start: int, stop: int, size: int) -> tuple[tf.Tensor, tf.Tensor]:
        length = size * self.columns + _WINDOW_SLACK
        first = start * self.columns
        if self.flat is not None and stop - start == size:
            shift = (self.flat.ctypes.data // 8 + first) % (_ALIGN // 8)
            if first - shift >= 0 and first - shift + length <= self.flat.size:
                window = self.flat[first - shift : first - shift + length]
                try:
                    return _tensor(window), _SHIFTS[shift]
                except BufferError:  # an export numpy refuses: copy from now on
                    self.flat = None
        elements = (stop - start) * self.columns
        # Rows past ``stop - start`` keep what the last chunk left there: computed, dropped.
        np.copyto(self.buffer[:elements].reshape(stop - start, self.columns), self.x[start:stop])
        if size not in self.staged:
            self.staged[size] = _tensor(self.buffer[:length])
        return self.staged[size], _SHIFTS[0]


def _with_log(body: Body, log: Log) -> Body:
    # A closure, not functools.partial: tf.function calls of a partial cost milliseconds.
    def bound(p: tf.Tensor, q: tf.Tensor, *scalars: tf.Tensor) -> tf.Tensor:
        return body(p, q, *scalars, log=log)

    return bound


def _windowed(body: Body, rows: int, columns: int, one_q_row: bool) -> Body:
    """``body`` (with :func:`fast_log`) on ``rows`` x ``columns`` matrices taken from flat
    windows at a shift, ``q`` as one row as it is where ``one_q_row``."""

    def matrix(window: tf.Tensor, shift: tf.Tensor) -> tf.Tensor:
        return tf.reshape(tf.slice(window, [shift], [rows * columns]), [rows, columns])

    def windowed(
        p: tf.Tensor, q: tf.Tensor, p_shift: tf.Tensor, q_shift: tf.Tensor, *scalars: tf.Tensor
    ) -> tf.Tensor:
        q_matrix = q if one_q_row else matrix(q, q_shift)
        return body(matrix(p, p_shift), q_matrix, *scalars, log=fast_log)

    return windowed


def _quick_caller(concrete: Any, signature: list[tf.TensorSpec]) -> Callable[..., tf.Tensor]:
    """``concrete`` (compiled here, by a first call), called by its flat entry point where
    that gives what the public call gives on a first input: the public call binds its
    arguments to the signature in Python, about 0.3 ms a call here (of some 0.5 ms of work
    for a small chunk). The entry point is TensorFlow's own but not public API
    (``ConcreteFunction._inference_function.call_flat``); without it, or should it ever
    answer differently, the public call is kept."""
    example = [tf.zeros(spec.shape, spec.dtype) for spec in signature]
    expected = concrete(*example).numpy()
    try:
        atomic = concrete._inference_function
        captured = list(concrete.captured_inputs)

        def quick(*args: tf.Tensor) -> tf.Tensor:
            return atomic.call_flat(*args, *captured)[0]

        got = quick(*example).numpy()
        if got.shape == expected.shape and np.array_equal(got, expected, equal_nan=True):
            return quick
    except Exception:  # any change of that private API: the public call
        pass
    return concrete


def _plan(rows: int, big: int, small: int) -> list[tuple[int, int, int]]:
    """(start, stop, chunk rows) of each chunk: a small one first where big ones follow
    (no aligned window can start before the array, so the first chunk is copied: better a
    small one), then big ones while that many rows are left, then small ones, the last
    padded."""
    plan, start = [], 0
    if rows >= small + big:
        plan.append((0, small, small))
        start = small
    while rows - start >= big:
        plan.append((start, start + big, big))
        start += big
    while start < rows:
        plan.append((start, min(start + small, rows), small))
        start += small
    return plan


def chunk_rows(columns: int) -> tuple[int, int]:
    """Rows of the big and small XLA chunks for ``columns`` columns (powers of two)."""
    big = 1 << max(0, (CHUNK_ELEMENTS // columns).bit_length() - 1)
    return big, max(1, big // _SMALL_CHUNK_FRACTION)


class BatchKernel:
    """One divergence over the rows of float64 matrices ``p`` and ``q`` (see the module)."""

    def __init__(self, name: str, body: Body, reference: Callable[..., Any], scalars: int = 0):
        self.name = name
        self._body = body
        self._reference = reference
        self._scalars = scalars
        self._graph = tf.function(
            _with_log(body, tf.math.log),
            input_signature=[_MATRIX, _MATRIX] + [_SCALAR] * scalars,
            reduce_retracing=True,
        )

    def __call__(self, p: Any, q: Any, *args: float) -> tf.Tensor:
        return tf.convert_to_tensor(self.values(p, q, *args))

    def values(self, p: Any, q: Any, *args: float) -> np.ndarray:
        """The divergence of each row of ``p`` from its row of ``q``, as a numpy array."""
        p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
        if p.ndim != 2 or q.ndim != 2:
            raise ValueError(f"{self.name}: p and q must be matrices, not {p.shape}, {q.shape}")
        rows, columns = p.shape
        out = None
        if (
            p.size >= XLA_MIN_ELEMENTS
            and q.shape in ((rows, columns), (1, columns))
            and (fns := self._chunk_functions(columns, q.shape[0] == 1))
        ):
            out = self._xla_values(p, q, args, fns)
        if out is None:
            scalars = [tf.constant(a, tf.float64) for a in args]
            out = np.array(self._graph(p, q, *scalars).numpy(), dtype=np.float64)
        return self._exact_where_marked(out, p, q, args)

    def _exact_where_marked(
        self, out: np.ndarray, p: np.ndarray, q: np.ndarray, args: tuple[float, ...]
    ) -> np.ndarray:
        marked = np.isnan(out)
        if marked.any():
            p_full, q_full = np.broadcast_arrays(p, q)
            with np.errstate(all="ignore"):  # the numpy path's own warnings, not this one's
                out[marked] = self._reference(p_full[marked], q_full[marked], *args)
        return out

    def _chunk_functions(self, columns: int, one_q_row: bool) -> dict[int, Any] | None:
        """The compiled functions of both chunk sizes, or None past ``MAX_COMPILED``."""
        fns = {}
        with _COMPILED_LOCK:
            for rows in sorted(set(chunk_rows(columns))):
                key = (self.name, rows, columns, 1 if one_q_row else rows)
                if key not in _COMPILED:
                    if len(_COMPILED) >= MAX_COMPILED:
                        return None
                    window = tf.TensorSpec([rows * columns + _WINDOW_SLACK], tf.float64)
                    q_spec = tf.TensorSpec([1, columns], tf.float64) if one_q_row else window
                    shift = tf.TensorSpec([], tf.int32)
                    signature = [window, q_spec, shift, shift] + [_SCALAR] * self._scalars
                    _COMPILED[key] = _quick_caller(
                        tf.function(
                            _windowed(self._body, rows, columns, one_q_row),
                            input_signature=signature,
                            jit_compile=True,
                        ).get_concrete_function(),
                        signature,
                    )
                fns[rows] = _COMPILED[key]
        return fns

    def _xla_values(
        self, p: np.ndarray, q: np.ndarray, args: tuple[float, ...], fns: dict[int, Any]
    ) -> np.ndarray:
        """Chunk by chunk, on the calling thread: XLA splits each chunk over the intra-op
        threads itself (splitting the rows over Python threads as well was slower)."""
        rows, columns = p.shape
        out = np.empty(rows, dtype=np.float64)
        big, small = chunk_rows(columns)
        scalars = [tf.constant(a, tf.float64) for a in args]
        p_rows = _Rows(p, columns, _STAGING.get(0, big * columns + _WINDOW_SLACK))
        if q.shape[0] == 1:
            q_row = _STAGING.get(1, columns)[:columns].reshape(1, columns)
            np.copyto(q_row, q)
            q_rows = None
            q_tensor, q_shift = _tensor(q_row), _SHIFTS[0]
        else:
            q_rows = _Rows(q, columns, _STAGING.get(1, big * columns + _WINDOW_SLACK))
        for start, stop, size in _plan(rows, big, small):
            p_tensor, p_shift = p_rows.chunk(start, stop, size)
            if q_rows is not None:
                q_tensor, q_shift = q_rows.chunk(start, stop, size)
            result = fns[size](p_tensor, q_tensor, p_shift, q_shift, *scalars)
            out[start:stop] = result.numpy()[: stop - start]
        return out


class _Renyi(BatchKernel):
    """Renyi divergence of order ``alpha`` (the one scalar); order 1 is KL."""

    def values(self, p: Any, q: Any, *args: float) -> np.ndarray:
        return kl.values(p, q) if args == (1,) else super().values(p, q, *args)


kl = BatchKernel("kl", _kl, formulas.kl)
reverse_kl = BatchKernel("reverse_kl", lambda p, q, log: _kl(q, p, log), formulas.reverse_kl)
jeffreys = BatchKernel(
    "jeffreys", lambda p, q, log: _kl(p, q, log) + _kl(q, p, log), formulas.jeffreys
)
js = BatchKernel("js", _js, formulas.js)
js_distance = BatchKernel(
    "js_distance", lambda p, q, log: tf.sqrt(_js(p, q, log)), formulas.js_distance
)
cross_entropy = BatchKernel("cross_entropy", _cross_entropy, formulas.cross_entropy)
entropy = BatchKernel("entropy", lambda p, q, log: _entropy(p, log), formulas.entropy)
hellinger = BatchKernel("hellinger", _hellinger, formulas.hellinger)
total_variation = BatchKernel("total_variation", _total_variation, formulas.total_variation)
bhattacharyya = BatchKernel("bhattacharyya", _bhattacharyya, formulas.bhattacharyya)
chi_square = BatchKernel("chi_square", _chi_square, formulas.chi_square)
renyi = _Renyi("renyi", _renyi, formulas.renyi, scalars=1)
