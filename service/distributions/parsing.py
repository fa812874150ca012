"""A request's ``p`` or ``q`` (``{"family": ..., <parameters>}`` or a mixture) to a checked
:class:`~.distribution.Distribution` or :class:`~.distribution.Mixture`.

Every rule is read from the family's declaration (:data:`~.families.FAMILIES`); a broken
one raises :class:`~service.core.errors.InvalidInput` whose ``loc`` names the side, the
parameter and the element: ``("body", "q", "scale", 1)``.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.core.errors import InputTooLarge, InvalidInput, Loc
from service.distributions.distribution import Distribution, Mixture, Side
from service.distributions.families import FAMILIES, Family
from service.distributions.parameters import SIMPLEX
from service.distributions.tensors import Array, batch_shape_of, to_array

MIXTURE = "mixture"
KNOWN = ", ".join([*FAMILIES, MIXTURE])


@dataclass(frozen=True)
class Limits:
    """How large a batch and a draw may be, and how far from 1 probabilities may sum."""

    max_batch: int
    max_dimension: int
    sum_tolerance: float


def parse(spec: Mapping[str, Any], loc: Loc, limits: Limits) -> Side:
    """``spec`` checked against its family's declaration; ``loc`` is the side's place
    (``("body", "p")``)."""
    name = spec.get("family")
    if not isinstance(name, str):
        raise InvalidInput(
            (*loc, "family"), f"family is required, a string: one of {KNOWN}", "missing"
        )
    if name == MIXTURE:
        return _mixture(spec, loc, limits)
    family = FAMILIES.get(name)
    if family is None:
        raise InvalidInput((*loc, "family"), f"unknown family {name!r}; known: {KNOWN}", "enum")
    return _distribution(family, spec, loc, limits)


def _distribution(
    family: Family, spec: Mapping[str, Any], loc: Loc, limits: Limits
) -> Distribution:
    declared = {parameter.name: parameter for parameter in family.parameters}
    for key in spec:
        if key != "family" and key not in declared:
            raise InvalidInput(
                (*loc, key),
                f"{family.name} has no parameter {key!r}; its parameters: "
                + ", ".join(_grouped(family)),
                "extra_forbidden",
            )
    _check_choices(family, spec, loc)
    given: dict[str, Array] = {}
    for parameter in family.parameters:
        if parameter.name not in spec:
            continue
        place = (*loc, parameter.name)
        array = to_array(spec[parameter.name], place, parameter.rank)
        parameter.constraint.check(array, place, limits.sum_tolerance)
        given[parameter.name] = array
    ranks = {parameter.name: parameter.rank for parameter in family.parameters}
    batch = batch_shape_of([(a, ranks[n], (*loc, n)) for n, a in given.items()])
    _check_size(batch, given, loc, limits)
    params = family.canonical(given, batch, loc)
    first = next(iter(params.values()))
    event = first.shape[len(batch) : len(batch) + family.event_rank]
    return Distribution(family, params, batch, event)


def _grouped(family: Family) -> list[str]:
    """The parameters' names, alternatives joined: ``total_count, probs | logits``."""
    names: list[str] = []
    for parameter in family.parameters:
        name = parameter.choice or parameter.name
        if name not in names:
            names.append(name)
    return names


def _check_choices(family: Family, spec: Mapping[str, Any], loc: Loc) -> None:
    """Required parameters given; exactly one of each set of alternatives."""
    for group in _grouped(family):
        names = group.split(" | ")
        given = [name for name in names if name in spec]
        if len(names) == 1 and not given:
            raise InvalidInput((*loc, group), f"{group} is required for {family.name}", "missing")
        if len(names) > 1 and len(given) != 1:
            got = "neither" if not given else " and ".join(given)
            raise InvalidInput(
                (*loc, given[-1]) if given else loc,
                f"{family.name} takes exactly one of {group}; got {got}",
                "missing" if not given else "value_error",
            )


def _check_size(batch: tuple[int, ...], given: dict[str, Array], loc: Loc, limits: Limits) -> None:
    size = math.prod(batch)
    if size > limits.max_batch:
        raise InputTooLarge(
            loc, f"the batch holds {size} distributions; the limit is {limits.max_batch}"
        )
    widest = max((a.shape[-1] for a in given.values() if a.ndim), default=1)
    if widest > limits.max_dimension:
        raise InputTooLarge(
            loc, f"a parameter has {widest} elements per row; the limit is {limits.max_dimension}"
        )


def _mixture(spec: Mapping[str, Any], loc: Loc, limits: Limits) -> Mixture:
    """``weights`` (a distribution over the components) and ``components`` (at least one,
    no mixtures among them), of one kind and event shape."""
    for key in spec:
        if key not in ("family", "weights", "components"):
            raise InvalidInput(
                (*loc, key),
                f"mixture has no parameter {key!r}; its parameters: weights, components",
                "extra_forbidden",
            )
    for key in ("weights", "components"):
        if key not in spec:
            raise InvalidInput((*loc, key), f"{key} is required for mixture", "missing")
    weights = to_array(spec["weights"], (*loc, "weights"), 1)
    if weights.ndim != 1:
        raise InvalidInput((*loc, "weights"), "weights must be a list of numbers", "shape")
    SIMPLEX.check(weights, (*loc, "weights"), limits.sum_tolerance)
    specs = spec["components"]
    if not isinstance(specs, list) or len(specs) != len(weights):
        raise InvalidInput(
            (*loc, "components"),
            f"components must be a list of {len(weights)} distributions, one per weight",
        )
    components: list[Distribution] = []
    for i, item in enumerate(specs):
        place = (*loc, "components", i)
        if not isinstance(item, dict):
            raise InvalidInput(place, "a component must be an object with a family", "type")
        if item.get("family") == MIXTURE:
            raise InvalidInput((*place, "family"), "a mixture's components cannot be mixtures")
        component = parse(item, place, limits)
        assert isinstance(component, Distribution)
        first = components[0] if components else component
        if (component.kind, component.event_shape) != (first.kind, first.event_shape):
            raise InvalidInput(
                place,
                f"component {i} ({component.name}) is not of the kind and event shape of "
                f"component 0 ({first.name})",
            )
        components.append(component)
    batch = batch_shape_of(
        [(np.empty(c.batch_shape), 0, (*loc, "components", i)) for i, c in enumerate(components)]
    )
    _check_size(batch, {}, loc, limits)
    # Within the tolerance of 1 is not exactly 1: numpy's choice wants exactly.
    normalized = weights / weights.sum()
    return Mixture(normalized, tuple(components), batch, components[0].event_shape)
