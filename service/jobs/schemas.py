"""Request and response bodies of the job endpoints."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.training.params import EXPERIMENT, ExperimentParams

Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]


# CIFAR-10's training and test sets: a limit above them would ask for images that are not.
CIFAR10_TRAIN_IMAGES, CIFAR10_TEST_IMAGES = 50_000, 10_000


class JobCreate(ExperimentParams):
    """An experiment to run, with its parameters (all optional: the defaults reproduce the
    reference setup: 25 epochs, batch 250, 2 runs per loss, validation split 0.2)."""

    model_config = ConfigDict(
        extra="forbid",
        # NaN and infinities (which the JSON parser accepts) are not numbers a job can use:
        # say so, rather than that they are out of a range.
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {"experiment": EXPERIMENT},
                {"experiment": EXPERIMENT, "epochs": 3, "runs": 1, "train_limit": 5000},
            ]
        },
    )

    experiment: Literal["kl-vs-ce-cifar10"] = "kl-vs-ce-cifar10"
    train_limit: int | None = Field(
        None,
        ge=1,
        le=CIFAR10_TRAIN_IMAGES,
        description="Use only the first N training images (after shuffling); CIFAR-10 has "
        f"{CIFAR10_TRAIN_IMAGES}.",
    )
    test_limit: int | None = Field(
        None,
        ge=1,
        le=CIFAR10_TEST_IMAGES,
        description="Use only the first N test images (after shuffling); CIFAR-10 has "
        f"{CIFAR10_TEST_IMAGES}.",
    )


class Progress(BaseModel):
    loss: str = Field(description="The loss being trained: kl or ce.")
    run: int
    runs: int
    epoch: int
    epochs: int
    completed_epochs: int
    total_epochs: int
    fraction: float
    metrics: dict[str, float | None] = Field(description="The latest epoch's metrics.")
    eta_seconds: float = Field(description="Estimated seconds left.")


class TestScores(BaseModel):
    loss: float | None
    accuracy: float | None


class Run(BaseModel):
    loss: str
    run: int
    history: dict[str, list[float | None]] = Field(
        description="Per-epoch lists: loss, accuracy, val_loss, val_accuracy."
    )
    test: TestScores | None = Field(description="Null until the run is evaluated.")
    seconds: float | None = Field(description="Training and test time of the run.")
    epoch_seconds: list[float] = Field([], description="Training time of each epoch.")


class LossSummary(BaseModel):
    runs: int
    test_accuracy_mean: float
    test_accuracy_std: float | None = Field(description="Sample std; null for one run.")
    test_loss_mean: float
    test_loss_std: float | None


class Comparison(BaseModel):
    accuracy_difference: float = Field(description="KL minus CE mean test accuracy.")
    interval_low: float | None
    interval_high: float | None
    confidence: float
    verdict: str


class ExperimentSummary(BaseModel):
    model_config = ConfigDict(extra="allow")

    kl: LossSummary | None = None
    ce: LossSummary | None = None
    comparison: Comparison | None = None


class Results(BaseModel):
    runs: list[Run]
    summary: ExperimentSummary | None


class Links(BaseModel):
    self: str
    report: str


class JobRead(BaseModel):
    id: str
    experiment: str
    status: Status
    parameters: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancel_requested: bool
    attempts: int
    progress: Progress | None = Field(description="While running: where training is.")
    results: Results | None = Field(description="Runs so far; the summary once runs end.")
    error: str | None = Field(description="Why the job failed (or was cancelled).")
    links: Links


class JobList(BaseModel):
    jobs: list[JobRead]
    total: int
    limit: int
    offset: int
