"""The request ``parameters`` of a V2 inference request, as options of the scoring.

Parsed by the service's one options model (``schemas.DivergenceOptions``, which JSON bodies
and Arrow/NDJSON query strings also use) and the member's parameter declarations, so a V2
request and a batch request with the same options get the same values or the same error,
in V2's words (``parameter 'base': ...``).
"""

from typing import Any

from pydantic import ValidationError

from service.divergences.catalog import Divergence
from service.divergences.schemas import DivergenceOptions
from service.interop.v2_quoting import quoted
from service.interop.v2_tensors import TensorError

# Parameters tritonclient or Triton may send that say nothing about the scoring.
RESERVED = frozenset(
    {"binary_data_output", "sequence_id", "sequence_start", "sequence_end", "priority"}
    | {"timeout", "headers"}
)
RESERVED_PREFIX = "triton_"
# Options of the one model that V2 refuses: its outputs are one value per row.
NOT_IN_V2 = ("terms", "top")


def options_from(parameters: dict[str, Any], divergence: Divergence) -> dict[str, Any]:
    """``score``'s keyword options from a request's ``parameters``; 400 on a bad one."""
    given = {
        key: value
        for key, value in parameters.items()
        if key not in RESERVED and not key.startswith(RESERVED_PREFIX)
    }
    try:
        options = DivergenceOptions.model_validate(given)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = quoted(first["loc"][0])  # a name: the options are flat
        known = ", ".join(f for f in DivergenceOptions.model_fields if f not in NOT_IN_V2)
        if first["type"] == "extra_forbidden":
            raise TensorError(f"unknown parameter {where}; the model reads {known}") from None
        message = first["msg"].removeprefix("Value error, ")
        raise TensorError(f"parameter {where}: {message}") from None
    for field in NOT_IN_V2:
        if getattr(options, field) not in (None, False):
            raise TensorError(
                f"parameter {quoted(field)}: per-element terms are not available in V2; "
                f"POST /divergences/{divergence.name}/batch answers them (JSON or Arrow)"
            )
    alpha = None
    for parameter in divergence.parameters:  # checked by the member's declaration
        alpha = options.alpha
        problem = parameter.problem(alpha, divergence.name)
        if problem is not None:
            raise TensorError(f"parameter {quoted(parameter.name)}: {problem}")
    return {
        "base": options.base,
        "mode": options.mode,
        "epsilon": options.epsilon,
        "normalize": options.normalize,
        "alpha": alpha,
        "p_format": options.p_format,
        "q_format": options.q_format,
        "temperature": options.temperature,
    }


def flag(parameters: dict[str, Any], name: str, default: bool, place: str = "") -> bool:
    """The boolean ``parameters[name]``, ``default`` where it is absent; 400 for anything
    else (``"yes"``, 1: a flag that was not understood is not silently dropped).
    ``place`` prefixes the message (``"output 'KL': "``)."""
    value = parameters.get(name, default)
    if not isinstance(value, bool):
        raise TensorError(f"{place}parameter {name!r} must be true or false; got {quoted(value)}")
    return value
