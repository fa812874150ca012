"""The sample estimators, one declaration each: what samples they take, which divergences
they estimate, their options, how they resample. ``GET /samples/methods`` is read from
:data:`ESTIMATORS`; :func:`estimate` checks that a request fits one and runs it.
"""

from dataclasses import dataclass, replace

from service.core.errors import InvalidInput
from service.divergences.catalog import DIVERGENCES
from service.divergences.inputs import Limits
from service.samples import methods
from service.samples.distances import DISTANCES
from service.samples.methods import SUBSAMPLE_FRACTION, Estimate, Options, Run
from service.samples.parsing import Sample


@dataclass(frozen=True)
class Estimator:
    """One method: the samples it takes, what it estimates, its options and resampling."""

    method: str
    title: str
    samples: str
    divergences: tuple[str, ...]
    options: tuple[str, ...]
    interval: str
    permutation: str
    run: Run
    categorical: bool = False
    max_dimension: int | None = 1
    resamples_rows: bool = False


_FAMILY = tuple(DIVERGENCES)
_COUNT_OPTIONS = ("prior", "base", "alpha", "bootstrap", "confidence", "permutations", "seed")
ESTIMATORS: dict[str, Estimator] = {
    e.method: e
    for e in (
        Estimator(
            "binned",
            "Histogram over shared bins, then the member on the bin frequencies",
            "1-D numbers",
            _FAMILY,
            ("bins", "bin_count", *_COUNT_OPTIONS),
            "bootstrap percentile (multinomial resampling of the counts over fixed bins)",
            "pooled rows split at random (hypergeometric counts over fixed bins)",
            methods.binned,
        ),
        Estimator(
            "categorical",
            "Frequencies over the union of the categories, then the member on them",
            "strings, or integers with categorical: true",
            _FAMILY,
            _COUNT_OPTIONS,
            "bootstrap percentile (multinomial resampling of the counts)",
            "pooled rows split at random (hypergeometric counts)",
            methods.categorical,
            categorical=True,
        ),
        Estimator(
            "knn",
            "k-nearest-neighbour estimate of KL (Wang, Kulkarni & Verdu 2009)",
            "numbers or rows of numbers (any dimension)",
            ("kl",),
            ("k", "base", "bootstrap", "confidence", "permutations", "seed"),
            f"subsampling without replacement ({SUBSAMPLE_FRACTION:g} of each sample), "
            "each difference from the estimate rescaled by sqrt(f / (1 - f)): a plain "
            "bootstrap repeats rows, whose zero distances bias kNN estimates",
            "pooled rows split at random, the estimate recomputed",
            methods.knn,
            max_dimension=None,
            resamples_rows=True,
        ),
        Estimator(
            "exact",
            "Distances of the empirical distributions, as scipy.stats computes them",
            "1-D numbers",
            tuple(DISTANCES),
            ("bootstrap", "confidence", "permutations", "seed"),
            "bootstrap percentile (rows resampled with replacement)",
            "pooled rows split at random, the distance recomputed",
            methods.exact,
            resamples_rows=True,
        ),
    )
}


def default_method(name: str, x: Sample) -> str:
    """exact for the distances, categorical for categories, binned for 1-D numbers, knn
    for rows of more than one number."""
    if name in DISTANCES:
        return "exact"
    if x.categorical:
        return "categorical"
    return "binned" if x.dimension == 1 else "knn"


def estimate(
    name: str, method: str | None, x: Sample, y: Sample, options: Options, limits: Limits
) -> Estimate:
    """Estimate ``name`` (a member of the family, or a distance) of P and Q from x and y,
    by ``method`` (chosen from the name and the samples when None); 422 naming the name,
    method or sample when they do not fit together."""
    if name not in DIVERGENCES and name not in DISTANCES:
        known = ", ".join((*DIVERGENCES, *DISTANCES))
        raise InvalidInput(("path", "name"), f"unknown divergence {name!r}; known: {known}", "enum")
    estimator = ESTIMATORS[method or default_method(name, x)]
    if name not in estimator.divergences:
        raise InvalidInput(
            ("body", "method"),
            f"{estimator.method} estimates {', '.join(estimator.divergences)}, not {name}; "
            f"methods for {name}: "
            + ", ".join(e.method for e in ESTIMATORS.values() if name in e.divergences),
        )
    if estimator.categorical != x.categorical:
        wanted = "categories" if estimator.categorical else "numbers"
        raise InvalidInput(("body", "x"), f"{estimator.method} takes {wanted}: {estimator.samples}")
    if estimator.max_dimension is not None and x.dimension > estimator.max_dimension:
        raise InvalidInput(
            ("body", "x", 0),
            f"{estimator.method} takes 1-D samples; rows of x have {x.dimension} elements "
            "(knn estimates kl in any dimension)",
        )
    if estimator.resamples_rows:
        methods.check_resampled(options, x.size + y.size, "rows")
    return replace(estimator.run(name, x, y, options, limits), method=estimator.method)
