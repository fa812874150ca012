"""Values of a V2 request as its error messages quote them: in full when small, else
their start and their size, so that an error about a 60 MB request stays a few hundred
bytes and still shows what was sent (as the service's JSON errors echo small inputs only).
"""

import math
import reprlib
from collections.abc import Iterable, Sequence

_CHARACTERS = 40  # of a string
_ITEMS = 4  # of a list or an object
_DIGITS = 18  # of an integer


class _Brief(reprlib.Repr):
    """reprlib's bounded repr, with sizes: a string's start and its length, a list's
    first items and its length, an integer beyond 18 digits as its count of digits
    (``repr`` would refuse one beyond 4,300 digits, and take quadratic time before)."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxlist, self.maxdict = 3, _ITEMS, _ITEMS
        self.maxstring = self.maxother = _CHARACTERS

    def repr_str(self, value: str, level: int) -> str:
        if len(value) <= _CHARACTERS:
            return repr(value)
        return f"{value[:_CHARACTERS]!r}... ({len(value)} characters)"

    def repr_int(self, value: int, level: int) -> str:
        if abs(value) < 10**_DIGITS:
            return repr(value)
        digits = math.floor(math.log10(abs(value))) + 1  # log10 takes integers of any size
        return f"<a{' negative' if value < 0 else 'n'} integer of about {digits} digits>"

    def repr_list(self, value: list[object], level: int) -> str:
        shown = super().repr_list(value, level)
        return shown if len(value) <= _ITEMS else f"{shown} ({len(value)} items)"


_BRIEF = _Brief()


def quoted(value: object) -> str:
    """``repr(value)`` where it is short; else a bounded form that says its size."""
    return _BRIEF.repr(value)


def quoted_all(values: Iterable[object]) -> str:
    """The first few ``values`` quoted, comma-separated, and how many there are in all."""
    every = list(values)
    shown = ", ".join(quoted(value) for value in every[:_ITEMS])
    return shown if len(every) <= _ITEMS else f"{shown}, ... ({len(every)} in all)"


def quoted_loc(loc: Sequence[object]) -> str:
    """A place in the request (``inputs.0.shape``) whose long keys are cut short."""
    return ".".join(
        str(part) if not isinstance(part, str) or len(part) <= _CHARACTERS else quoted(part)
        for part in loc
    )
