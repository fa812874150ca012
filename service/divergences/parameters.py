"""The numeric parameters of the family's members (an order, for renyi and alpha)."""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    """A member's numeric parameter (a finite number; required by the members that take
    it), with the least value it takes."""

    name: str
    description: str
    minimum: float = -math.inf

    def problem(self, value: float | None, member: str) -> str | None:
        """What is wrong with ``value`` for ``member``, in words; None where nothing is."""
        if value is None:
            return f"{self.name} is required for {member}"
        if not math.isfinite(value):
            return f"{self.name} must be a finite number; got {value}"
        if value < self.minimum:
            return f"{self.name} must be at least {self.minimum:g} for {member}; got {value:g}"
        return None
