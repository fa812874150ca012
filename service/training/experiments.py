"""The experiments a job can run: one declaration each, read by the job routes (GET
/experiments, POST /jobs), the progress tracker, the training child and the CLI.

Declaring one imports no TensorFlow: the training function is named by its module and
loaded by the process that runs it (:func:`service.training.train.run`).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from service.training.params import EXPERIMENT, ExperimentParams
from service.training.summary import summarize
from service.training.vae_params import VAE, VaeParams
from service.training.vae_summary import HISTORY_KEYS as VAE_HISTORY_KEYS
from service.training.vae_summary import summarize_vae

Emit = Callable[[dict[str, Any]], None]
Summarize = Callable[[Sequence[dict[str, Any]], Any], dict[str, Any] | None]


@dataclass(frozen=True)
class Experiment:
    """What a job of this experiment takes, how it runs and what it reports.

    ``params``: its parameters (a pydantic model with ``runs`` and ``total_epochs``);
    ``trainer``: ``"module:function"``, called as ``function(params, cifar10_dir=...,
    emit=..., verbose=...)``, returning the results; ``history_keys``: the per-epoch
    metrics each run's history lists; ``summarize``: a summary of the finished runs
    (``None`` while there is nothing to summarize); ``bounded``: the parameters the
    service's settings cap (``max_epochs``, ``max_runs``, ``max_train_batch_size``).
    """

    name: str
    description: str
    params: type[BaseModel]
    trainer: str
    history_keys: tuple[str, ...]
    summarize: Summarize
    bounded: tuple[str, ...] = ("epochs", "runs", "batch_size")


EXPERIMENTS: dict[str, Experiment] = {}


def declare(experiment: Experiment) -> Experiment:
    EXPERIMENTS[experiment.name] = experiment
    return experiment


declare(
    Experiment(
        name=EXPERIMENT,
        description="The same CNN trained on CIFAR-10 with Keras' KL-divergence loss and with "
        "categorical cross-entropy, run for run from the same weights; test accuracy "
        "compared by a paired interval.",
        params=ExperimentParams,
        trainer="service.training.experiment:run_experiment",
        history_keys=("loss", "accuracy", "val_loss", "val_accuracy"),
        summarize=lambda runs, params: summarize(runs, params.losses),
    )
)


declare(
    Experiment(
        name=VAE,
        description="A convolutional VAE on CIFAR-10 (Gaussian encoder, Bernoulli decoder): "
        "loss = reconstruction NLL + beta_t KL(q(z|x) || N(0, I)), the KL by the formula of "
        "POST /kl/gaussian; test negative ELBO in nats and bits per dimension.",
        params=VaeParams,
        trainer="service.training.vae:run_vae",
        history_keys=VAE_HISTORY_KEYS,
        summarize=lambda runs, params: summarize_vae(runs),
    )
)
