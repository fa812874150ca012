"""V2 inference on logits with tritonclient, JSON and binary tensors: the same exact value
as the other transports, -inf as itself in binary tensors."""

import math
from typing import Any

import numpy as np
import pytest

from tests.divergences.log_reference import assert_accurate, expected


def infer(v2: Any, p: np.ndarray, q: np.ndarray, binary: bool, **parameters: Any) -> np.ndarray:
    import tritonclient.http as triton

    inputs = []
    for name, array in (("P", p), ("Q", q)):
        tensor = triton.InferInput(name, list(array.shape), "FP64")
        tensor.set_data_from_numpy(array, binary_data=binary)
        inputs.append(tensor)
    outputs = [triton.InferRequestedOutput("KL", binary_data=binary)]
    options = {"p_format": "logits", "q_format": "logits", **parameters}
    answer = v2.infer("kl", inputs, outputs=outputs, parameters=options)
    values: np.ndarray = answer.as_numpy("KL")
    return values


@pytest.mark.parametrize("binary", [False, True])
def test_kl_of_underflowing_logits_is_exact_in_json_and_binary_tensors(
    v2: Any, binary: bool
) -> None:
    p, q = np.array([[0.0, 0.0], [3.0, -1.0]]), np.array([[0.0, -800.0], [0.5, 0.25]])
    got = infer(v2, p, q, binary, temperature=1.5)
    for row in range(2):
        want = expected("kl", p[row], q[row], ("logits", "logits"), 1.5)
        assert_accurate(float(got[row]), want, "kl", row)


def test_minus_infinity_in_a_binary_tensor_is_a_zero_probability(v2: Any) -> None:
    p, q = np.array([[1.0, -math.inf, 2.0]]), np.array([[0.0, -math.inf, 0.0]])
    got = infer(v2, p, q, binary=True)
    assert_accurate(float(got[0]), expected("kl", p[0], q[0], ("logits", "logits")), "kl")
