"""Request and response bodies of the sample endpoints (the HTTP contract).

The samples are read as plain JSON values here and checked by :mod:`.parsing`, which
names the first offending row instead of one error per element.
"""

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from service.divergences.schemas import Base
from service.samples.binning import PRIORS, RULES

MAX_RESAMPLES = 10_000
MAX_K = 1_000
MAX_BINS = 100_000
# A pseudo-count beyond any count: a larger one only flattens both sides further.
MAX_PRIOR = 1e9

Samples = Annotated[
    list[Any],
    WithJsonSchema(
        {
            "type": "array",
            "minItems": 1,
            "items": {
                "anyOf": [
                    {"type": "number"},
                    {"type": "string"},
                    {"type": "array", "items": {"type": "number"}, "minItems": 1},
                ]
            },
            "description": "Draws: numbers (1-D), rows of numbers of one length (R^d), or "
            "strings (categories); integers are categories with categorical: true.",
        }
    ),
]
Rule = Literal["auto", "fd", "scott", "sturges", "rice", "sqrt", "doane", "quantiles"]
Prior = Literal["none", "jeffreys", "laplace"]

_X = [0.1, 0.4, 0.5, 1.2, 1.9, 2.2, 2.4, 3.1]
_Y = [0.9, 1.3, 1.8, 2.1, 2.6, 2.9, 3.3, 3.8]
EXAMPLES: Any = [
    {"x": _X, "y": _Y, "method": "binned", "bins": [0, 1, 2, 3, 4], "prior": "laplace"},
    {"x": ["a", "b", "b", "c"], "y": ["a", "b", "c", "c", "d"], "prior": "jeffreys"},
    {
        "x": [[0.1, 0.2], [0.5, -0.3], [1.1, 0.4], [-0.2, 0.9], [0.3, 0.3], [0.8, -0.6]],
        "y": [[1.1, 1.2], [1.5, 0.7], [2.1, 1.4], [0.8, 1.9], [1.3, 1.3], [1.8, 0.4]],
        "method": "knn",
        "k": 2,
    },
    {"x": _X, "y": _Y, "bootstrap": 200, "seed": 1},
]


# The literals above spell the rules and priors of :mod:`.binning` for the JSON schema.
assert set(get_args(Rule)) == set(RULES) and set(get_args(Prior)) == set(PRIORS)


class SampleDivergenceRequest(BaseModel):
    """x drawn from P and y from Q; the answer estimates D(P || Q)."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": EXAMPLES})

    x: Samples
    y: Samples
    method: Literal["binned", "categorical", "knn", "exact"] | None = Field(
        None,
        description="How to estimate (GET /samples/methods); by default exact for "
        "wasserstein and energy, categorical for categories, binned for 1-D numbers and "
        "knn for rows.",
    )
    categorical: bool = Field(False, description="Integers are categories, not numbers.")
    bins: Annotated[int, Field(ge=1)] | Annotated[list[float], Field(min_length=2)] | Rule = Field(
        "auto",
        description="binned: a count of equal-width bins over the pooled range, explicit "
        "edges (increasing, covering every sample: a sample outside is an error), or a "
        "rule: numpy's (auto, fd, scott, sturges, rice, sqrt, doane) on the pooled "
        "samples, or quantiles of x (bin_count bins).",
    )
    bin_count: int = Field(
        10, ge=1, le=MAX_BINS, description="The number of bins of bins: quantiles."
    )
    prior: Prior | Annotated[float, Field(ge=0, le=MAX_PRIOR, allow_inf_nan=False)] = Field(
        "none",
        description="A pseudo-count added to every bin or category of the union: none (0: "
        "exact frequencies, so a bin empty in y where x has mass makes KL infinite), "
        "jeffreys (1/2), laplace (1), or a number (at most 1e9).",
    )
    k: int = Field(5, ge=1, le=MAX_K, description="knn: the neighbour whose distance counts.")
    base: Base = "e"
    alpha: float | None = Field(
        None, allow_inf_nan=False, description="The order, for renyi and alpha (as /divergences)."
    )
    bootstrap: int = Field(
        0,
        ge=0,
        le=MAX_RESAMPLES,
        description="Resamples for an interval (0: none); knn subsamples instead (see methods).",
    )
    confidence: float = Field(0.95, gt=0, lt=1, description="The interval's confidence level.")
    permutations: int = Field(
        0, ge=0, le=MAX_RESAMPLES, description='Permutations for a p-value of "same distribution".'
    )
    seed: int = Field(0, ge=0, lt=2**63, description="Seed of the resampling: answers repeat.")


class Interval(BaseModel):
    low: float | None = Field(description="Lower bound; null when infinite.")
    high: float | None = Field(description="Upper bound; null when infinite.")
    confidence: float
    scheme: str = Field(description="How the resamples were drawn.")
    resamples: int


class SampleDivergenceResponse(BaseModel):
    """The estimate, its uncertainty when asked for, and what the method used."""

    divergence: str
    method: str
    value: float | None = Field(description="The estimate; null when infinite.")
    finite: bool
    infinite_at: int | None = Field(
        description="When infinite: the first bin or category (index) to blame."
    )
    unit: str = Field(description="nat, bit, ... as /divergences; the samples' own for distances.")
    n_x: int
    n_y: int
    interval: Interval | None = Field(description="With bootstrap: an interval for the value.")
    p_value: float | None = Field(description='With permutations: p for "same distribution".')
    edges: list[float] | None = Field(description="binned: the bin edges used.")
    categories: list[str | int] | None = Field(description="categorical: the union, sorted.")
    counts_x: list[int] | None = Field(description="Counts of x per bin or category.")
    counts_y: list[int] | None = Field(description="Counts of y per bin or category.")
    prior: float | None = Field(description="The pseudo-count added to every bin or category.")
    k: int | None = Field(description="knn: the neighbour used.")
    dimension: int | None = Field(description="knn: the dimension of the rows.")


class EstimatorInfo(BaseModel):
    method: str
    title: str
    samples: str
    divergences: list[str]
    options: list[str]
    interval: str
    permutation: str
