"""Values in nats to the unit of the requested logarithm base, and the unit's name.

The divergences' scoring has the same rules (service.divergences.scoring); the two
domains are siblings in the layers contract and do not import each other.
"""

import math

from service.distributions.tensors import Array


def unit_name(base: float | str) -> str:
    """nat, bit, hartley, or ``log<b>-unit`` with b the shortest decimal that reads back
    as it (``log3.7-unit``, ``log16-unit``)."""
    names: dict[float | str, str] = {"e": "nat", 2.0: "bit", 10.0: "hartley"}
    return names.get(base) or f"log{repr(float(base)).removesuffix('.0')}-unit"


def in_base(nats: Array, base: float | str) -> Array:
    """``nats`` divided by ln(base) (unchanged for ``"e"``)."""
    return nats if base == "e" else nats / math.log(float(base))
