"""Request and response bodies of the diagonal Gaussian KL endpoints (``/kl/gaussian``)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from service.divergences.schemas import Base, BatchSummary

Real = Annotated[float, Field(strict=True)]
RealVector = Annotated[list[Real], Field(min_length=1)]
RealMatrix = Annotated[list[RealVector], Field(min_length=1)]


class GaussianOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    base: Base = "e"


class GaussianKLRequest(GaussianOptions):
    """A diagonal Gaussian N(mu, diag exp(logvar)), against N(mu2, diag exp(logvar2))
    (each defaults to 0: the standard normal)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"mu": [0.5, -1.0], "logvar": [0.1, -0.3]}]}
    )

    mu: RealVector
    logvar: RealVector
    mu2: RealVector | None = None
    logvar2: RealVector | None = None


class GaussianKLBatchRequest(GaussianOptions):
    """Rows of (mu, logvar); the second Gaussian as one row per row, a single row, or
    the standard normal when left out."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"mu": [[0.5, -1.0], [0.0, 0.0]], "logvar": [[0.1, -0.3], [0.0, 0.0]]}]
        }
    )

    mu: RealMatrix
    logvar: RealMatrix
    mu2: RealMatrix | RealVector | None = None
    logvar2: RealMatrix | RealVector | None = None


class GaussianKLResponse(BaseModel):
    kl: float | None = Field(description="The KL divergence; null if it overflows float64.")
    finite: bool
    unit: str


class GaussianKLBatchResponse(BaseModel):
    kl: list[float | None]
    finite: list[bool]
    unit: str
    summary: BatchSummary
