"""How a large batch is cut into the XLA-compiled chunks, and how each chunk reaches them.

- Chunks come in two fixed shapes, so compilations are bounded: ``big`` rows (the largest
  power of two with ``big * columns`` at most ``CHUNK_ELEMENTS``: 4096 rows of 100
  columns) and ``big / 4`` rows (see :func:`plan`; the last chunk is padded with rows that
  are computed and dropped).
- A chunk is read in place from the caller's arrays through DLPack, as a 64-byte aligned
  window (what TensorFlow requires of a buffer it shares) that starts up to 7 elements
  before it, the kernel slicing the chunk out; the first and last chunks, and arrays numpy
  cannot share (read-only, non-contiguous), are copied into an aligned staging buffer
  instead (one set per thread, kept for the life of the thread).
"""

import threading

import numpy as np
import tensorflow as tf

CHUNK_ELEMENTS = 1 << 19
_SMALL_CHUNK_FRACTION = 4
_ALIGN = 64  # bytes; TensorFlow reads a DLPack buffer in place only when it is aligned
WINDOW_SLACK = _ALIGN // 8 - 1
"""Elements a window may start before its chunk."""

SHIFTS = [tf.constant(i, tf.int32) for i in range(WINDOW_SLACK + 1)]


def chunk_rows(columns: int) -> tuple[int, int]:
    """Rows of the big and small XLA chunks for ``columns`` columns (powers of two)."""
    big = 1 << max(0, (CHUNK_ELEMENTS // columns).bit_length() - 1)
    return big, max(1, big // _SMALL_CHUNK_FRACTION)


def plan(rows: int, big: int, small: int) -> list[tuple[int, int, int]]:
    """(start, stop, chunk rows) of each chunk: a small one first where big ones follow
    (no aligned window can start before the array, so the first chunk is copied: better a
    small one), then big ones while that many rows are left, then small ones, the last
    padded."""
    chunks, start = [], 0
    if rows >= small + big:
        chunks.append((0, small, small))
        start = small
    while rows - start >= big:
        chunks.append((start, start + big, big))
        start += big
    while start < rows:
        chunks.append((start, min(start + small, rows), small))
        start += small
    return chunks


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


STAGING = _Staging()


def shared_tensor(flat: np.ndarray) -> tf.Tensor:
    """A tensor reading the 64-byte aligned, contiguous ``flat`` in place (DLPack)."""
    return tf.experimental.dlpack.from_dlpack(flat.__dlpack__())


def _readable_in_place(x: np.ndarray) -> bool:
    """Whether windows of ``x`` can be handed to TensorFlow as they are (DLPack exports
    writable, aligned, contiguous arrays only)."""
    return bool(x.flags.c_contiguous and x.flags.writeable and x.ctypes.data % 8 == 0)


class Rows:
    """Chunks of one operand (p, or q with one row per p row) as (tensor, shift) pairs: a
    64-byte aligned window of the caller's array that starts ``shift`` elements before the
    chunk, read in place, or, where no such window fits in the array (its first and last
    chunks, the padded one) or the array cannot be shared, a copy in ``buffer``."""

    def __init__(self, x: np.ndarray, columns: int, buffer: np.ndarray):
        self.flat = x.reshape(-1) if _readable_in_place(x) else None
        self.x, self.columns, self.buffer = x, columns, buffer
        self.staged: dict[int, tf.Tensor] = {}

    def chunk(self, start: int, stop: int, size: int) -> tuple[tf.Tensor, tf.Tensor]:
        length = size * self.columns + WINDOW_SLACK
        first = start * self.columns
        if self.flat is not None and stop - start == size:
            shift = (self.flat.ctypes.data // 8 + first) % (_ALIGN // 8)
            if first - shift >= 0 and first - shift + length <= self.flat.size:
                window = self.flat[first - shift : first - shift + length]
                try:
                    return shared_tensor(window), SHIFTS[shift]
                except BufferError:  # an export numpy refuses: copy from now on
                    self.flat = None
        elements = (stop - start) * self.columns
        # Rows past ``stop - start`` keep what the last chunk left there: computed, dropped.
        np.copyto(self.buffer[:elements].reshape(stop - start, self.columns), self.x[start:stop])
        if size not in self.staged:
            self.staged[size] = shared_tensor(self.buffer[:length])
        return self.staged[size], SHIFTS[0]
