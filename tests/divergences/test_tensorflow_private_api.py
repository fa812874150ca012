"""The one private TensorFlow API the service uses: the compiled chunks are called through
``ConcreteFunction._inference_function.call_flat`` (:func:`engine._quick_caller`), which
skips the public call's argument binding. Should a TensorFlow upgrade remove or change it,
the engine falls back to the public call, correct but slower; these tests fail instead, so
the upgrade is noticed (``pyproject.toml`` holds TensorFlow to the versions tested)."""

import numpy as np
import pytest
import tensorflow as tf

from service.divergences.tf import chunks, engine, kernels
from tests.divergences.test_tensorflow_chunks import batch
from tests.divergences.test_tensorflow_path import fast_paths

ROWS, COLUMNS = 16, 4
WINDOW = tf.TensorSpec([ROWS * COLUMNS + chunks.WINDOW_SLACK], tf.float64)
SHIFT = tf.TensorSpec([], tf.int32)
SCALAR = tf.TensorSpec([], tf.float64)


def compiled_chunk(name: str) -> tuple[object, list[tf.TensorSpec]]:
    """The compiled function of a chunk of ``name`` (16 rows of 4, one q row per p row),
    made as the engine makes it, and its signature."""
    kernel = getattr(kernels, name)
    signature = [WINDOW, WINDOW, SHIFT, SHIFT] + [SCALAR] * kernel._scalars
    function = tf.function(
        engine._windowed(kernel._body, ROWS, COLUMNS, one_q_row=False),
        input_signature=signature,
        jit_compile=True,
    )
    return function.get_concrete_function(), signature


@pytest.mark.parametrize("name", ["kl", "renyi"])
def test_the_private_flat_entry_point_exists_and_answers_as_the_public_call(name: str) -> None:
    concrete, signature = compiled_chunk(name)
    atomic = concrete._inference_function  # type: ignore[attr-defined]
    assert callable(atomic.call_flat), "TensorFlow changed ConcreteFunction's flat entry point"
    quick = engine._quick_caller(concrete, signature)
    assert quick is not concrete, "the engine fell back to the public call: TensorFlow changed"
    rng = np.random.default_rng(5)
    for p_shift, q_shift in ((0, 0), (3, 7), (7, 1)):
        p, q = rng.random(WINDOW.shape), rng.random(WINDOW.shape)
        args = [tf.constant(p), tf.constant(q)]
        args += [tf.constant(p_shift, tf.int32), tf.constant(q_shift, tf.int32)]
        args += [tf.constant(0.5, tf.float64)] * (len(signature) - 4)
        public = concrete(*args).numpy()  # type: ignore[operator]
        assert public.shape == (ROWS,)
        assert np.array_equal(quick(*args).numpy(), public, equal_nan=True)


def test_the_kernels_compiled_chunks_are_called_through_the_flat_entry_point() -> None:
    compiled: dict[tuple[str, int, int, int], object] = {}
    p, q = batch()
    with fast_paths(True, compiled):
        kernels.kl.values(p, q)
        kernels.renyi.values(p, q, 0.5)
    assert len(compiled) == 4
    for key, caller in compiled.items():
        assert getattr(caller, "__qualname__", "").endswith("_quick_caller.<locals>.quick"), key


def test_without_the_flat_entry_point_the_public_call_is_kept() -> None:
    class Public:  # a concrete function as TensorFlow might one day give it
        captured_inputs = ()

        def __call__(self, *args: object) -> object:
            return tf.constant([1.0])

    public = Public()
    assert engine._quick_caller(public, [tf.TensorSpec([1], tf.float64)]) is public


def test_a_flat_entry_point_that_answers_differently_is_not_used() -> None:
    class Atomic:
        def call_flat(self, *args: object) -> list[object]:
            return [tf.constant([2.0])]

    class Changed:  # the private entry point still there, but meaning something else
        captured_inputs = ()
        _inference_function = Atomic()

        def __call__(self, *args: object) -> object:
            return tf.constant([1.0])

    changed = Changed()
    assert engine._quick_caller(changed, [tf.TensorSpec([1], tf.float64)]) is changed
