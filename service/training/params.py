"""The experiment's parameters; the defaults reproduce the reference setup exactly."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Loss = Literal["kl", "ce"]
EXPERIMENT = "kl-vs-ce-cifar10"


class DataParams(BaseModel):
    """What every CIFAR-10 experiment takes of the data: its seed and how much of it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    seed: int = Field(0, ge=0, lt=2**31, description="Seeds the data order and the weights.")
    train_limit: int | None = Field(
        None, ge=1, description="Use only the first N training images (after shuffling)."
    )
    test_limit: int | None = Field(
        None, ge=1, description="Use only the first N test images (after shuffling)."
    )


class ExperimentParams(DataParams):
    """What one job trains: ``runs`` runs of the CNN per loss, then a test evaluation."""

    epochs: int = Field(25, ge=1, le=1000, description="Epochs per run.")
    batch_size: int = Field(250, ge=1, le=65536, description="Training batch size.")
    runs: int = Field(2, ge=1, le=100, description="Runs per loss, seeds seed, seed+1, ...")
    losses: list[Loss] = Field(
        ["kl", "ce"],
        min_length=1,
        max_length=2,
        description='"kl": Keras KL divergence; "ce": categorical cross-entropy.',
    )
    validation_split: float = Field(
        0.2, ge=0, le=0.9, description="Fraction of the (shuffled) training data held out."
    )

    @field_validator("losses")
    @classmethod
    def _distinct(cls, losses: list[Loss]) -> list[Loss]:
        if len(set(losses)) != len(losses):
            raise ValueError("losses must not repeat")
        return losses

    @property
    def total_epochs(self) -> int:
        return self.epochs * self.runs * len(self.losses)
