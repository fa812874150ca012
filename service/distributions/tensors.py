"""Parameters as arrays: a JSON number or nested lists of numbers in, float64 out.

A parameter's leading dimensions are batch dimensions (torch's ``batch_shape``); its last
``rank`` dimensions are its own (0 for a scale, 1 for a mean vector, 2 for a matrix).
Every error is an :class:`~service.core.errors.InvalidInput` whose ``loc`` names the side,
the parameter and, where one is to blame, the element: ``("body", "p", "scale", 2)``.
"""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from service.core.errors import InvalidInput, Loc

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
Shape = tuple[int, ...]


def first(mask: Mask) -> Shape:
    """The index of the first True element of ``mask`` (which has one)."""
    return tuple(int(i) for i in np.argwhere(mask)[0])


def where(index: Shape) -> str:
    """``index`` in words for a message: " at [1, 2]", or nothing for a scalar."""
    return f" at [{', '.join(map(str, index))}]" if index else ""


def to_array(value: object, loc: Loc, rank: int = 0) -> Array:
    """``value`` (a number or nested lists of numbers) as a float64 array of at least
    ``rank`` dimensions, none empty, every element finite.

    Booleans, strings and nulls are refused (a list mixing booleans with numbers is read
    as numbers, as numpy reads it); so are ragged lists.
    """
    name = str(loc[-1])
    if value is None or isinstance(value, bool | str | dict):
        raise InvalidInput(loc, f"{name} must be a number or nested lists of numbers", "type")
    try:
        array = np.asarray(value)
    except (ValueError, OverflowError):
        raise InvalidInput(
            loc, f"{name} has lists of different lengths at the same depth", "shape"
        ) from None
    if array.dtype.kind not in "iuf":
        raise InvalidInput(loc, f"{name} must hold numbers only", "type")
    if array.ndim < rank:
        what = {1: "a list", 2: "a matrix (a list of rows)"}[rank]
        raise InvalidInput(loc, f"{name} must be {what}; got {array.ndim} dimensions", "shape")
    if 0 in array.shape:
        raise InvalidInput(loc, f"{name} must not be empty", "too_short")
    array = array.astype(np.float64, copy=False)
    finite = np.isfinite(array)
    if not finite.all():
        index = first(~finite)
        raise InvalidInput(
            (*loc, *index), f"{name} must hold finite numbers; got {array[index]}{where(index)}"
        )
    return array


def batch_shape_of(arrays: Sequence[tuple[Array, int, Loc]]) -> Shape:
    """The broadcast of the batch shapes of ``(array, rank, loc)`` parameters; raises,
    naming the parameter, where one does not broadcast with those before it."""
    shape: Shape = ()
    for array, rank, loc in arrays:
        own = array.shape[: array.ndim - rank]
        try:
            shape = np.broadcast_shapes(shape, own)
        except ValueError:
            name = loc[-1] if isinstance(loc[-1], str) else f"component {loc[-1]}"
            raise InvalidInput(
                loc,
                f"{name}'s batch shape {list(own)} does not broadcast with the others' "
                f"{list(shape)}",
                "shape",
            ) from None
    return shape
