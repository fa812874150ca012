"""The ``vae-cifar10`` experiment's parameters: a convolutional VAE trained ``runs`` times."""

from pydantic import Field

from service.training.params import DataParams

VAE = "vae-cifar10"


class VaeParams(DataParams):
    """What one VAE job trains: ``runs`` runs of ``epochs`` epochs each, then a test score."""

    epochs: int = Field(20, ge=1, le=1000, description="Epochs per run.")
    batch_size: int = Field(128, ge=1, le=65536, description="Training batch size.")
    runs: int = Field(1, ge=1, le=100, description="Runs, weights seeded seed+1, seed+2, ...")
    latent_dim: int = Field(32, ge=1, le=512, description="Dimensions of the latent z.")
    beta: float = Field(
        1.0,
        ge=0,
        le=1000,
        allow_inf_nan=False,
        description="Weight of the KL term once warm-up is over.",
    )
    kl_warmup_epochs: int = Field(
        0,
        ge=0,
        le=1000,
        description="Epoch e (from 0) weighs the KL by beta * min(1, (e + 1) / this); 0: none.",
    )
    learning_rate: float = Field(
        1e-3, gt=0, le=1, allow_inf_nan=False, description="Adam's learning rate."
    )
    validation_split: float = Field(
        0.1, ge=0, le=0.9, description="Fraction of the (shuffled) training data held out."
    )

    @property
    def total_epochs(self) -> int:
        return self.epochs * self.runs
