"""How a divergence's fused body runs over a batch: :class:`BatchKernel`.

Contract of every kernel: float64 matrices whose rows are the distributions (``q`` one
row per ``p`` row, or a single row for all), values in nats, ``inf`` for an infinite
divergence. Calling a kernel gives a tensor, :meth:`BatchKernel.values` the numpy array
the service answers with (no tensor round trip).

- A NaN in a body's answer marks a row TensorFlow cannot decide the way the numpy path
  does (see :mod:`service.divergences.tf.kernels`: subnormal elements, ratios outside
  float64's normal range, values below ``NEAR_ZERO``); NaN is no divergence of valid
  inputs. Marked rows, rare, are then computed by the numpy formula itself, so both paths
  give the same answer for them, infinite ones included.
- Large batches (at least ``XLA_MIN_ELEMENTS`` elements) run compiled by XLA
  (``jit_compile=True``) in chunks of two fixed shapes, read in place through DLPack where
  they can be (:mod:`service.divergences.tf.chunks`). The logarithm is
  :func:`~service.divergences.tf.fast_log.fast_log` and row sums a matrix-vector product:
  the whole kernel is then one XLA loop, which XLA splits over the intra-op threads itself.
- One compilation per divergence, column count, chunk size and ``q`` layout (one row, or
  one per ``p`` row), on its first use and cached for the life of the process (about
  0.1 s and 2.5 MiB each here): the first large batch of a new column count pays for two.
  At most ``MAX_COMPILED`` of them; past that, new shapes take the small-batch path.
- Smaller batches run through one ``tf.function`` graph traced for float64 matrices of any
  shape (no compilation per shape), with ``tf.math.log``. So do all batches with
  ``xla=False``: the fast paths turned off (``DIVERGENCE_FAST_PATHS=false``), the plain
  path every fast one is checked against.
- The compiled chunks are called through TensorFlow's private flat entry point where it
  answers as the public call does (:func:`_quick_caller`, the only use of a private
  TensorFlow API in the service: ``pyproject.toml`` bounds TensorFlow to the versions
  tested, and a test fails if the entry point goes away).
"""

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from service.divergences.tf import chunks
from service.divergences.tf.fast_log import fast_log

XLA_MIN_ELEMENTS = 1 << 17
MAX_COMPILED = 64

_MATRIX = tf.TensorSpec(shape=[None, None], dtype=tf.float64)
_SCALAR = tf.TensorSpec(shape=[], dtype=tf.float64)
_COMPILED: dict[tuple[str, int, int, bool], Any] = {}
_COMPILED_LOCK = threading.Lock()

Body = Callable[..., tf.Tensor]
Log = Callable[[tf.Tensor], tf.Tensor]


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


class BatchKernel:
    """One divergence over the rows of float64 matrices ``p`` and ``q`` (see the module).

    ``body(p, q, *scalars, log)`` computes each row's value, NaN where numpy must decide;
    ``reference(p, q, *scalars)`` is the numpy formula that decides those rows.
    """

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

    def __call__(self, p: Any, q: Any, *args: float, xla: bool = True) -> tf.Tensor:
        return tf.convert_to_tensor(self.values(p, q, *args, xla=xla))

    def values(self, p: Any, q: Any, *args: float, xla: bool = True) -> np.ndarray:
        """The divergence of each row of ``p`` from its row of ``q``, as a numpy array;
        ``xla=False`` keeps every batch on the plain graph (the fast paths off)."""
        p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
        if p.ndim != 2 or q.ndim != 2:
            raise ValueError(f"{self.name}: p and q must be matrices, not {p.shape}, {q.shape}")
        rows, columns = p.shape
        out = None
        if (
            xla
            and p.size >= XLA_MIN_ELEMENTS
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
            for rows in sorted(set(chunks.chunk_rows(columns))):
                # One q row for all p rows is another function than one q row per p row,
                # chunks of one row included.
                key = (self.name, rows, columns, one_q_row)
                if key not in _COMPILED:
                    if len(_COMPILED) >= MAX_COMPILED:
                        return None
                    window = tf.TensorSpec([rows * columns + chunks.WINDOW_SLACK], tf.float64)
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
        big, small = chunks.chunk_rows(columns)
        scalars = [tf.constant(a, tf.float64) for a in args]
        staged = big * columns + chunks.WINDOW_SLACK
        p_rows = chunks.Rows(p, columns, chunks.STAGING.get(0, staged))
        if q.shape[0] == 1:
            q_row = chunks.STAGING.get(1, columns)[:columns].reshape(1, columns)
            np.copyto(q_row, q)
            q_rows = None
            q_tensor, q_shift = chunks.shared_tensor(q_row), chunks.SHIFTS[0]
        else:
            q_rows = chunks.Rows(q, columns, chunks.STAGING.get(1, staged))
        for start, stop, size in chunks.plan(rows, big, small):
            p_tensor, p_shift = p_rows.chunk(start, stop, size)
            if q_rows is not None:
                q_tensor, q_shift = q_rows.chunk(start, stop, size)
            result = fns[size](p_tensor, q_tensor, p_shift, q_shift, *scalars)
            out[start:stop] = result.numpy()[: stop - start]
        return out
