"""A parsed side of a request: one family's distribution (a batch of them), or a mixture.

Both draw samples and evaluate log densities over their whole batch; both can be spread
to a larger batch shape (the pair's, where p and q broadcast) without copying.
"""

from dataclasses import dataclass, replace

import numpy as np
from scipy import special

from service.distributions.canonical import Params
from service.distributions.families import Family
from service.distributions.supports import Kind
from service.distributions.tensors import Array, Shape


@dataclass(frozen=True)
class Distribution:
    """A batch of one family's distributions, by canonical parameters (:mod:`.canonical`)
    broadcast to ``batch_shape``."""

    family: Family
    params: Params
    batch_shape: Shape
    event_shape: Shape

    @property
    def name(self) -> str:
        return self.family.name

    @property
    def kind(self) -> Kind:
        return self.family.support.kind

    def spread(self, batch: Shape) -> "Distribution":
        """The same distributions broadcast to ``batch`` (which ``batch_shape`` broadcasts to)."""
        own = len(self.batch_shape)
        params = {
            name: np.broadcast_to(value, batch + value.shape[own:])
            for name, value in self.params.items()
        }
        return replace(self, params=params, batch_shape=batch)

    def sample(self, rng: np.random.Generator, samples: int) -> Array:
        return self.family.sample(self.params, rng, samples)

    def log_density(self, x: Array) -> Array:
        with np.errstate(divide="ignore", invalid="ignore"):  # -inf outside the support
            return self.family.log_density(self.params, x)


@dataclass(frozen=True)
class Mixture:
    """``sum_k weights_k component_k``: components of one kind and event shape, their
    batch shapes broadcast together."""

    weights: Array
    components: tuple[Distribution, ...]
    batch_shape: Shape
    event_shape: Shape

    name = "mixture"

    @property
    def kind(self) -> Kind:
        return self.components[0].kind

    def spread(self, batch: Shape) -> "Mixture":
        components = tuple(c.spread(batch) for c in self.components)
        return replace(self, components=components, batch_shape=batch)

    def sample(self, rng: np.random.Generator, samples: int) -> Array:
        """Draws of every component, then one component chosen per draw by its weight
        (simple and vectorised: it draws len(weights) times what it keeps)."""
        draws = np.stack([c.sample(rng, samples) for c in self.components])
        chosen = rng.choice(len(self.weights), size=(samples, *self.batch_shape), p=self.weights)
        index = chosen.reshape(1, *chosen.shape, *(1,) * len(self.event_shape))
        picked: Array = np.take_along_axis(draws, index, axis=0)[0]
        return picked

    def log_density(self, x: Array) -> Array:
        # A weight of 0, or a point outside every component, has log density -inf.
        with np.errstate(divide="ignore", invalid="ignore"):
            log_weights = np.log(self.weights)
            terms = [
                w + c.log_density(x) for w, c in zip(log_weights, self.components, strict=True)
            ]
            result: Array = special.logsumexp(np.stack(terms), axis=0)
        return result


Side = Distribution | Mixture
