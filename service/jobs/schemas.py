"""Request and response bodies of the job endpoints."""

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from service.training.experiments import EXPERIMENTS
from service.training.params import EXPERIMENT, ExperimentParams
from service.training.vae_params import VAE, VaeParams

Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]


# CIFAR-10's training and test sets: a limit above them would ask for images that are not.
CIFAR10_TRAIN_IMAGES, CIFAR10_TEST_IMAGES = 50_000, 10_000


class CifarLimits(BaseModel):
    """The parts of CIFAR-10 an experiment on it may take: at most the whole sets."""

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


# NaN and infinities (which the JSON parser accepts) are not numbers a job can use: say
# so, rather than that they are out of a range.
_JOB_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False)


class KlVsCeJob(CifarLimits, ExperimentParams):
    """KL vs cross-entropy: all parameters optional, the defaults reproduce the reference
    setup (25 epochs, batch 250, 2 runs per loss, validation split 0.2)."""

    model_config = _JOB_CONFIG
    experiment: Literal["kl-vs-ce-cifar10"] = "kl-vs-ce-cifar10"


class VaeJob(CifarLimits, VaeParams):
    """The VAE: all parameters optional (20 epochs, batch 128, 1 run, 32 latent
    dimensions, beta 1 without warm-up, Adam at 1e-3, validation split 0.1)."""

    model_config = _JOB_CONFIG
    experiment: Literal["vae-cifar10"] = "vae-cifar10"


JOB_MODELS: dict[str, type[BaseModel]] = {EXPERIMENT: KlVsCeJob, VAE: VaeJob}
Experiment = Literal["kl-vs-ce-cifar10", "vae-cifar10"]
assert set(get_args(Experiment)) == set(JOB_MODELS) == set(EXPERIMENTS)


class JobCreate(BaseModel):
    """An experiment to run and its parameters, checked against that experiment's
    (``GET /experiments``); without ``experiment``, the first one."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {"experiment": EXPERIMENT},
                {"experiment": EXPERIMENT, "epochs": 3, "runs": 1, "train_limit": 5000},
                {"experiment": VAE, "epochs": 5, "latent_dim": 16, "kl_warmup_epochs": 2},
            ]
        },
    )

    experiment: Experiment = "kl-vs-ce-cifar10"

    def checked(self) -> BaseModel:
        """The parameters as the experiment's model; ``ValidationError`` if they are not."""
        return JOB_MODELS[self.experiment].model_validate(self.model_dump())


class ExperimentInfo(BaseModel):
    name: str
    description: str
    parameters: dict[str, Any] = Field(description="The parameters' JSON Schema.")
    defaults: dict[str, Any]
    bounded_by_settings: dict[str, int] = Field(
        description="Parameters this service caps below their schema's bounds: the cap."
    )


class Progress(BaseModel):
    loss: str = Field(description="The loss being trained: kl or ce (vae for the VAE).")
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


class VaeTestScores(BaseModel):
    negative_elbo: float | None = Field(description="Reconstruction + KL, nats per image.")
    bits_per_dim: float | None = Field(description="negative_elbo / (3072 ln 2).")
    reconstruction_loss: float | None
    kl_loss: float | None


class Run(BaseModel):
    loss: str
    run: int
    history: dict[str, list[float | None]] = Field(
        description="Per-epoch lists: loss, accuracy, val_loss, val_accuracy (the VAE: "
        "reconstruction_loss, kl_loss, loss, their val_ versions, active_units, beta)."
    )
    test: TestScores | VaeTestScores | None = Field(
        description="Null until the run is evaluated; the VAE's: its negative ELBO."
    )
    seconds: float | None = Field(description="Training and test time of the run.")
    epoch_seconds: list[float] = Field([], description="Training time of each epoch.")


class LossSummary(BaseModel):
    runs: int
    test_accuracy_mean: float
    test_accuracy_std: float | None = Field(description="Sample std; null for one run.")
    test_loss_mean: float
    test_loss_std: float | None


class PairedComparison(BaseModel):
    mean_difference: float = Field(description="Mean over runs r of KL minus CE accuracy.")
    interval_low: float | None = Field(description="Paired t interval; null for one run.")
    interval_high: float | None
    confidence: float
    runs: int = Field(description="Runs both losses finished (the pairs).")
    differences: list[float] = Field(description="KL minus CE test accuracy of each run.")


class Comparison(BaseModel):
    accuracy_difference: float = Field(description="KL minus CE mean test accuracy.")
    interval_low: float | None = Field(description="Welch's unpaired t interval.")
    interval_high: float | None
    confidence: float
    paired: PairedComparison | None = Field(
        None,
        description="Run r of both losses starts from the same weights and sees the data in "
        "the same order: the per-run differences, with a paired t interval (the verdict's).",
    )
    verdict: str


class ExperimentSummary(BaseModel):
    model_config = ConfigDict(extra="allow")

    kl: LossSummary | None = None
    ce: LossSummary | None = None
    comparison: Comparison | None = None


class VaeSummary(BaseModel):
    negative_elbo_mean: float
    negative_elbo_std: float | None = Field(description="Sample std; null for one run.")
    bits_per_dim_mean: float
    runs: int


class Results(BaseModel):
    runs: list[Run]
    summary: VaeSummary | ExperimentSummary | None
    devices: list[str] = Field(
        [],
        description='What trained: each GPU TensorFlow used, by name, or ["CPU"]; empty for '
        "jobs run before the service recorded it.",
    )


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
