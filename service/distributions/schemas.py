"""Request and response bodies of the parametric-family endpoints (the HTTP contract).

A side (p or q) is an object ``{"family": ..., <parameters>}``; its JSON schema is one
alternative per family, generated from :data:`~.families.FAMILIES`, while its values are
checked by :mod:`.parsing` (which names the side, the parameter and the element).
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from service.distributions.examples import EXAMPLES
from service.distributions.families import FAMILIES, Family
from service.distributions.parsing import MIXTURE
from service.divergences.schemas import Base

MAX_SAMPLES = 1_000_000

_TENSOR: dict[str, Any] = {
    "anyOf": [{"type": "number"}, {"type": "array", "items": {}}],
}


def _family_schema(family: Family) -> dict[str, Any]:
    properties: dict[str, Any] = {"family": {"const": family.name, "type": "string"}}
    required = ["family"]
    for parameter in family.parameters:
        shape = {0: "a number", 1: "a vector", 2: "a matrix"}[parameter.rank]
        either = f"; exactly one of {parameter.choice}" if parameter.choice else ""
        properties[parameter.name] = {
            **_TENSOR,
            "description": f"{parameter.meaning}: {shape} per batch element, "
            f"{parameter.constraint.text}{either}. Leading dimensions are batch dimensions.",
        }
        if parameter.choice is None:
            required.append(parameter.name)
    return {
        "type": "object",
        "title": family.name,
        "description": f"{family.title}; support {family.support.text}.",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


_MIXTURE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": MIXTURE,
    "description": "sum_k weights_k components_k, estimated by Monte Carlo.",
    "properties": {
        "family": {"const": MIXTURE, "type": "string"},
        "weights": {
            "type": "array",
            "items": {"type": "number", "minimum": 0},
            "description": "The components' weights, summing to 1.",
        },
        "components": {
            "type": "array",
            "items": {"description": "A family and its parameters (an object, as p or q)."},
            "description": "One distribution per weight, of one kind and event shape "
            "(any family above; not a mixture).",
        },
    },
    "required": ["family", "weights", "components"],
    "additionalProperties": False,
}


def _side_schema(schema: dict[str, Any]) -> None:
    schema.pop("additionalProperties", None)
    schema["oneOf"] = [*map(_family_schema, FAMILIES.values()), _MIXTURE_SCHEMA]


class DistributionSpec(RootModel[dict[str, Any]]):
    """One distribution (or a batch of them): a family and its parameters."""

    model_config = ConfigDict(json_schema_extra=_side_schema)


class MonteCarloOptions(BaseModel):
    """How pairs without a closed form are estimated."""

    model_config = ConfigDict(extra="forbid", strict=True)

    samples: int = Field(100_000, ge=2, le=MAX_SAMPLES, description="Draws of p per pair.")
    seed: int = Field(
        0, ge=0, lt=2**63, description="Seed of numpy's Generator: a seeded run repeats exactly."
    )


class DistributionKLRequest(BaseModel):
    """Two distributions p and q (families and parameters as torch.distributions)."""

    # One example per family and per feature (the same as the route's named examples).
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [example["value"] for example in EXAMPLES.values()]},
    )

    p: DistributionSpec
    q: DistributionSpec
    base: Base = "e"
    method: Literal["auto", "closed_form", "monte_carlo"] = Field(
        "auto",
        description='"auto": the closed form where the pair has one, Monte Carlo otherwise; '
        '"closed_form" (422 where there is none) or "monte_carlo" to force one.',
    )
    monte_carlo: MonteCarloOptions = Field(default_factory=MonteCarloOptions)


class GaussianDistancesRequest(BaseModel):
    """Two Gaussians (normal, multivariate_normal or low_rank_multivariate_normal)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "p": {"family": "normal", "loc": 0.0, "scale": 1.0},
                    "q": {"family": "normal", "loc": 1.0, "scale": 2.0},
                }
            ]
        },
    )

    p: DistributionSpec
    q: DistributionSpec
    base: Base = "e"


_NESTED: dict[str, Any] = {
    "type": "array",
    "items": {},
    "description": "Nested lists over the batch shape.",
}


def _values(kind: str, description: str, nullable: bool = True, **default: Any) -> Any:
    one: list[Any] = [{"type": kind}, {"type": "null"}] if nullable else [{"type": kind}]
    return Field(
        json_schema_extra={"anyOf": [*one, _NESTED]},
        description=description,
        **default,
    )


class DistributionKLResponse(BaseModel):
    """KL(p || q): one value, or nested lists over the broadcast batch shape. An infinite
    value is null with finite false, and ``reason`` says why (for the first one)."""

    kl: float | list[Any] | None = _values("number", "The divergence; null where infinite.")
    finite: bool | list[Any] = _values("boolean", "Whether each value is finite.", nullable=False)
    method: Literal["closed_form", "monte_carlo"]
    unit: str = Field(description="nat, bit, hartley or log<b>-unit.")
    reason: str | None = Field(None, description="Why the (first) infinite value is infinite.")
    standard_error: float | list[Any] | None = _values(
        "number", "Monte Carlo only: the estimate's standard error, in the unit.", default=None
    )
    samples: int | None = Field(None, description="Monte Carlo only: draws of p per pair.")


class GaussianDistancesResponse(BaseModel):
    """The three distances: a number each, or nested lists over the batch shape."""

    hellinger: float | list[Any] = _values("number", "In [0, 1], no unit.", nullable=False)
    bhattacharyya: float | list[Any] = _values(
        "number", "-log of the Bhattacharyya coefficient, in the unit.", nullable=False
    )
    wasserstein2: float | list[Any] = _values(
        "number", "2-Wasserstein distance, in the units of x.", nullable=False
    )
    unit: str = Field(description="The Bhattacharyya distance's unit: nat, bit, ...")


class ParameterInfo(BaseModel):
    name: str
    meaning: str
    constraint: str
    rank: int = Field(description="0: a number, 1: a vector, 2: a matrix per batch element.")
    alternatives: str | None = Field(description="The set of which exactly one is given.")


class FamilyInfo(BaseModel):
    name: str
    title: str
    parameters: list[ParameterInfo]
    support: str
    kind: str = Field(description="continuous, discrete, vector or simplex.")
    event_rank: int = Field(description="0: a draw is a number; 1: a vector.")
    example: dict[str, Any]


class ClosedFormInfo(BaseModel):
    p: str
    q: str
    infinite_when: str | None = Field(description="When the value is infinite inside q's support.")


class MonteCarloInfo(BaseModel):
    default_samples: int
    max_samples: int
    max_draws: int = Field(description="Most numbers drawn for one request.")


class DistributionsInfo(BaseModel):
    """The families, the pairs with closed forms, and the rules for the rest."""

    families: list[FamilyInfo]
    closed_forms: list[ClosedFormInfo]
    infinite_when: list[str]
    monte_carlo: MonteCarloInfo
