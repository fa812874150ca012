"""Request and response bodies of the divergence endpoints (the HTTP contract).

Numbers are parsed as JSON numbers only (no strings or booleans); whether they are finite,
non-negative and sum to 1 is checked by :mod:`service.divergences.inputs`, which reports
the first offending element instead of one error per element.
"""

import math
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema

from service.divergences.inputs import Format
from service.divergences.scoring import Mode

# null is JSON's way of writing -inf in a vector of log_probabilities or logits (an exact
# zero probability, e.g. a masked logit); in a vector of probabilities it is refused.
Number = Annotated[float | None, Field(strict=True)]
Vector = Annotated[list[Number], Field(min_length=1)]
Matrix = Annotated[list[Vector], Field(min_length=1)]


def log_base(value: object) -> float | str:
    """``"e"``, or a finite number greater than 1 as a float. A base in (0, 1) would make
    every divergence negative, and 1 has no logarithm to divide by."""
    if value == "e":
        return "e"
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            base = float(value)
        except OverflowError:  # an integer literal beyond float64
            base = math.inf
        if math.isfinite(base) and base > 1:
            return base
    shown = value if not isinstance(value, str) else value[:40]
    raise ValueError(f'base must be "e" or a finite number greater than 1; got {shown!r}')


Base = Annotated[
    float | str,
    PlainValidator(log_base),
    WithJsonSchema(
        {
            "anyOf": [{"const": "e", "type": "string"}, {"type": "number", "exclusiveMinimum": 1}],
            "description": 'Logarithm base: "e" (nats, the default), 2 (bits), 10, or any '
            "finite number greater than 1.",
        }
    ),
]

_P: Any = [0.1, 0.4, 0.5]
_Q: Any = [0.8, 0.15, 0.05]


class Options(BaseModel):
    """Options every divergence endpoint takes (strict: no numbers as strings or booleans)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    base: Base = "e"
    mode: Mode = Field(
        "exact",
        description='"exact": 0 log(0/q) = 0 and p_i > 0 = q_i gives an infinite value; '
        '"keras": both vectors clipped to [epsilon, 1] first, as keras.losses.kl_divergence.',
    )
    epsilon: float = Field(
        1e-7, gt=0, lt=1, allow_inf_nan=False, description="Clipping floor in keras mode."
    )
    normalize: bool = Field(
        False,
        strict=True,
        description="Scale each vector (non-negative weights or counts) to sum 1. Without "
        "it each vector must sum to 1 within the service's tolerance (1e-6 by default); "
        "log_probabilities must then log-sum-exp to 0 within it, and are normalised either way.",
    )
    p_format: Format = Field(
        "probabilities",
        description='How p is given: "probabilities", "log_probabilities" (natural logs; null '
        'for a zero probability) or "logits" (normalised by log-softmax; null for -inf).',
    )
    q_format: Format = Field("probabilities", description="How q is given (see p_format).")
    temperature: float | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        description="Divides the logits before the softmax (softmax(z / temperature), as in "
        "distillation); only for a side given as logits.",
    )
    terms: bool = Field(
        False,
        description="Answer each element's signed contribution to the value too (terms, as "
        "long as p, summing to the value), for members that are a sum over elements.",
    )
    top: int | None = Field(
        None,
        ge=1,
        description="Answer the k largest contributions with their indices (most positive "
        "first, ties by index); without terms, only them.",
    )


class KLRequest(Options):
    """Two distributions p and q of the same length."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"p": _P, "q": _Q}]})

    p: Vector
    q: Vector


class KLBatchRequest(Options):
    """Rows of p, and q as one row per p row or as a single row compared with every p row."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"p": [_P, _Q], "q": [_Q, _P]}, {"p": [_P, _Q], "q": _Q}]}
    )

    p: Matrix
    q: Vector | Matrix


class Alpha(BaseModel):
    model_config = ConfigDict(strict=True)

    alpha: float | None = Field(
        None,
        allow_inf_nan=False,
        description="The order of the members that take one (required there, ignored by "
        "the others): renyi (at least 0; 1 gives KL) and alpha (any real; 1 gives KL(p||q), "
        "0 gives KL(q||p)).",
    )


class DivergenceOptions(Options, Alpha):
    """Every option of a divergence request, whatever carries it: a JSON body's fields, V2
    request parameters, Arrow and NDJSON query strings."""


class DivergenceRequest(DivergenceOptions):
    """p, and q of the same length (q is not needed for entropy)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"p": _P, "q": _Q}]})

    p: Vector
    q: Vector | None = None


class DivergenceBatchRequest(DivergenceOptions):
    """Rows of p; q as one row per p row or a single row (not needed for entropy)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"p": [_P, _Q], "q": _Q}]})

    p: Matrix
    q: Vector | Matrix | None = None


class Result(BaseModel):
    finite: bool = Field(description="False when the value is infinite (then it is null).")
    infinite_at: int | None = Field(
        description="When infinite: the first index i that makes it so (e.g. p_i > 0 = q_i "
        "for KL); null otherwise, or when no single index is to blame."
    )
    unit: str = Field(description="nat, bit, hartley, log<b>-unit, sqrt(...) or none.")


class Term(BaseModel):
    """One of the largest terms: its element's index in p, and its contribution."""

    index: int
    term: float | None = Field(description="The element's contribution; null when infinite.")


# Present in an answer only when asked for (terms, top); null where a term is infinite.
TermList = Annotated[
    list[float | None] | None,
    Field(description="Each element's contribution, as long as p (with terms: true)."),
]
TopList = Annotated[
    list[Term] | None,
    Field(description="The largest contributions, most positive first (with top: k)."),
]
TermRows = Annotated[list[list[float | None]] | None, Field(description="Terms per row.")]
TopRows = Annotated[list[list[Term]] | None, Field(description="Top per row.")]


class KLResponse(Result):
    kl: float | None = Field(description="KL(p || q); null when infinite.")
    terms: TermList = None
    top: TopList = None


class DivergenceResponse(Result):
    divergence: str
    value: float | None = Field(description="The divergence; null when infinite.")
    terms: TermList = None
    top: TopList = None


class BatchSummary(BaseModel):
    """Aggregates over the rows of a batch; null where an infinite row makes them so."""

    rows: int
    infinite_rows: int
    mean: float | None
    min: float | None
    max: float | None


class BatchResult(BaseModel):
    finite: list[bool]
    infinite_at: list[int | None]
    unit: str
    summary: BatchSummary


class KLBatchResponse(BatchResult):
    kl: list[float | None] = Field(description="KL(p_i || q_i) per row, in row order.")
    terms: TermRows = None
    top: TopRows = None


class DivergenceBatchResponse(BatchResult):
    divergence: str
    value: list[float | None] = Field(description="The divergence per row, in row order.")
    terms: TermRows = None
    top: TopRows = None


class DivergenceInfo(BaseModel):
    name: str
    title: str
    formula: str
    range: str = Field(description="Range in nats (where the base applies).")
    symmetric: bool
    infinite_when: str
    parameters: list[str]
    uses_base: bool
    needs_q: bool
    terms: bool = Field(description="Whether it is a sum over elements (terms, top).")
    unit: str = Field(description="Unit at the default base.")


class StreamRow(BaseModel):
    """One line of an NDJSON stream: a pair (q is not needed for entropy)."""

    model_config = ConfigDict(extra="forbid")

    p: Vector
    q: Vector | None = None


STREAM_ROW_DOC: dict[str, Any] = {
    "schema": {
        "type": "object",
        "description": 'One JSON object per line: {"p": [...], "q": [...]}.',
        "properties": {
            "p": {"type": "array", "items": {"type": ["number", "null"]}},
            "q": {"type": "array", "items": {"type": ["number", "null"]}},
        },
        "required": ["p"],
    },
    "example": '{"p": [0.1, 0.4, 0.5], "q": [0.8, 0.15, 0.05]}\n'
    '{"p": [0.5, 0.5], "q": [0.9, 0.1]}\n',
}
