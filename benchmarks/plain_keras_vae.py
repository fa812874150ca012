"""The ``vae-cifar10`` job against the same VAE written in plain Keras.

    python benchmarks/plain_keras_vae.py [CIFAR10_DIR] [--epochs 5] [--train-limit 5000]
        [--test-limit 1000] [--batch-size 128] [--latent-dim 32] [--rounds 3]
        [--training-nice N] [--markdown]

CIFAR10_DIR defaults to ../shared/data/cifar10-jpeg.tar.gz unpacked into a temporary
folder. Each round trains the VAE three ways, rotating which goes first, on the same data
(same loader, same seeded shuffle and split), seeds, epochs and batch size:

- plain Keras, in this process: the model below, written after Keras' own VAE example (its
  own layers, KL and loop, nothing from ``service.training.vae*``);
- ``run_vae``, in this process: what a job's child process runs;
- a job through the service (``POST /jobs`` with ``"experiment": "vae-cifar10"``, polled
  until it ends): its own child process, progress, storage.

It prints seconds per epoch each way (the first epoch, which also traces, and the median of
the others), the final test negative ELBO (nats per image) and bits per dimension, and each
way's time per epoch over plain Keras' with a 95% interval: the geometric mean of the
rounds' ratios of later-epoch medians, t interval on their logarithms (a round's three ways
ran minutes apart on the same machine, so pairing by round takes out its drift). ``run_vae``
and the job also count active units after each epoch (one pass of the encoder over the
validation images): that is in their seconds. Target: the same ELBO within noise, epochs
within noise of plain Keras (an interval that holds 1).
"""

import argparse
import math
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    cifar10_dir,
    finished_job,
    machine_note,
    markdown_option,
    running,
    say,
    service_argv,
    table,
    training_env,
)
from plain_keras import EpochTimer

from service.training.data import load_cifar10, prepare
from service.training.vae import run_vae
from service.training.vae_params import VAE, VaeParams

unpack = keras.utils.unpack_x_y_sample_weight
Run = tuple[list[float], float]  # seconds of each epoch, test negative ELBO


class PlainVAE(keras.Model):
    def __init__(self, latent_dim: int, seed: int) -> None:
        super().__init__()
        x = keras.Input((32, 32, 3))
        h = layers.Conv2D(32, 4, strides=2, padding="same", activation="relu")(x)
        h = layers.Conv2D(64, 4, strides=2, padding="same", activation="relu")(h)
        h = layers.Dense(256, activation="relu")(layers.Flatten()(h))
        self.encoder = keras.Model(
            x, [layers.Dense(latent_dim)(h), layers.Dense(latent_dim)(h)], name="encoder"
        )
        z = keras.Input((latent_dim,))
        h = layers.Dense(256, activation="relu")(z)
        h = layers.Reshape((8, 8, 64))(layers.Dense(8 * 8 * 64, activation="relu")(h))
        h = layers.Conv2DTranspose(32, 4, strides=2, padding="same", activation="relu")(h)
        logits = layers.Conv2DTranspose(3, 4, strides=2, padding="same")(h)
        self.decoder = keras.Model(z, logits, name="decoder")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = [
            keras.metrics.Mean(name=n) for n in ("reconstruction_loss", "kl_loss", "loss")
        ]

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return self.trackers

    def losses_of(self, x: tf.Tensor, training: bool) -> tuple[tf.Tensor, tf.Tensor]:
        mean, log_var = self.encoder(x, training=training)
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        logits = self.decoder(mean + ops.exp(0.5 * log_var) * eps, training=training)
        bce = ops.binary_crossentropy(x, logits, from_logits=True)
        reconstruction = ops.sum(bce, axis=(1, 2, 3))
        kl = -0.5 * ops.sum(1 + log_var - ops.square(mean) - ops.exp(log_var), axis=1)
        return reconstruction, kl

    def record(self, reconstruction: tf.Tensor, kl: tf.Tensor) -> dict[str, tf.Tensor]:
        for tracker, value in zip(
            self.trackers, (reconstruction, kl, reconstruction + kl), strict=True
        ):
            tracker.update_state(value)
        return {t.name: t.result() for t in self.trackers}

    def train_step(self, data: tf.Tensor | tuple[tf.Tensor]) -> dict[str, tf.Tensor]:
        with tf.GradientTape() as tape:
            reconstruction, kl = self.losses_of(unpack(data)[0], training=True)
            loss = ops.mean(reconstruction + kl)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        return self.record(reconstruction, kl)

    def test_step(self, data: tf.Tensor | tuple[tf.Tensor]) -> dict[str, tf.Tensor]:
        return self.record(*self.losses_of(unpack(data)[0], training=False))


def plain(directory: Path, params: VaeParams) -> Run:
    """Epoch seconds and the test negative ELBO of the plain VAE (one run, seed + 1)."""
    x_train, _, x_test, _ = prepare(
        load_cifar10(directory),
        seed=params.seed,
        train_limit=params.train_limit,
        test_limit=params.test_limit,
    )
    split = len(x_train) - int(len(x_train) * params.validation_split)
    keras.utils.set_random_seed(params.seed + 1)
    model = PlainVAE(params.latent_dim, seed=params.seed + 1)
    model.compile(optimizer=keras.optimizers.Adam(params.learning_rate))
    timer = EpochTimer()
    model.fit(
        x_train[:split],
        batch_size=params.batch_size,
        epochs=params.epochs,
        validation_data=(x_train[split:],),
        verbose=0,
        callbacks=[timer],
    )
    test = model.evaluate(x_test, batch_size=1000, verbose=0, return_dict=True)
    return timer.seconds, float(test["loss"])


def in_process(directory: Path, params: VaeParams) -> Run:
    results = run_vae(params, cifar10_dir=directory, emit=lambda event: None)
    (run,) = results["runs"]
    return run["epoch_seconds"], float(run["test"]["negative_elbo"])


def as_job(url: str, params: VaeParams) -> Run:
    job: Any = finished_job(url, {"experiment": VAE, **params.model_dump()})
    (run,) = job["results"]["runs"]
    return run["epoch_seconds"], float(run["test"]["negative_elbo"])


def ratio_interval(ways: list[float], plains: list[float]) -> tuple[float, float, float]:
    """Geometric mean of ``ways[r] / plains[r]`` and its 95% t interval (NaN for one round)."""
    logs = np.log(np.asarray(ways) / np.asarray(plains))
    if len(logs) < 2:
        return math.exp(logs[0]), math.nan, math.nan
    low, high = stats.ttest_1samp(logs, 0.0).confidence_interval(0.95)
    return math.exp(logs.mean()), math.exp(low), math.exp(high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cifar10_dir", nargs="?", type=Path)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--train-limit", type=int, default=5000)
    parser.add_argument("--test-limit", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--training-nice", type=int, help="the service's DIVERGENCE_TRAINING_NICE (default 10)"
    )
    markdown_option(parser)
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch also traces)")
    md = args.markdown
    params = VaeParams(
        epochs=args.epochs,
        batch_size=args.batch_size,
        latent_dim=args.latent_dim,
        train_limit=args.train_limit,
        test_limit=args.test_limit,
    )
    names = ("plain Keras", "run_vae", "job")
    runs: dict[str, list[Run]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        directory = cifar10_dir(args.cifar10_dir, work)
        env = training_env(work, directory)
        if args.training_nice is not None:
            env["DIVERGENCE_TRAINING_NICE"] = str(args.training_nice)
        with running("service", service_argv(), work, env) as server:
            ways: dict[str, Callable[[], Run]] = {
                "plain Keras": lambda: plain(directory, params),
                "run_vae": lambda: in_process(directory, params),
                "job": lambda: as_job(server.url, params),
            }
            for round_ in range(args.rounds):
                # Rotating which way goes first spreads the drift of a shared machine.
                for name in names[round_ % 3 :] + names[: round_ % 3]:
                    runs[name].append(ways[name]())
            note = machine_note()

    def later(run: Run) -> float:
        return statistics.median(run[0][1:])

    bits = 32 * 32 * 3 * math.log(2)
    elbo = {name: statistics.fmean(run[1] for run in runs[name]) for name in names}
    ratios = {
        name: ratio_interval([later(r) for r in runs[name]], [later(r) for r in runs[names[0]]])
        for name in names
    }

    def interval(low: float, high: float) -> str:
        return "needs 2 rounds" if math.isnan(low) else f"[{low:.3f}, {high:.3f}]"

    def rounds(name: str) -> str:
        return " ".join(
            f"{later(r) / later(p):.2f}" for r, p in zip(runs[name], runs[names[0]], strict=True)
        )

    first = {n: statistics.median(r[0][0] for r in runs[n]) for n in names}
    epoch = {n: statistics.median(s for r in runs[n] for s in r[0][1:]) for n in names}
    rows = [
        ["first epoch s (with tracing)", *(f"{first[n]:.2f}" for n in names)],
        ["s/epoch, later epochs (median)", *(f"{epoch[n]:.2f}" for n in names)],
        ["s/epoch over plain Keras'", *(f"{ratios[n][0]:.3f}" for n in names)],
        ["  95% interval", "", *(interval(*ratios[n][1:]) for n in names[1:])],
        ["  each round's", "", *(rounds(n) for n in names[1:])],
        ["test negative ELBO, nats/image", *(f"{elbo[n]:.2f}" for n in names)],
        ["test bits/dim", *(f"{elbo[n] / bits:.4f}" for n in names)],
    ]
    say(
        f"{args.epochs} epochs, {args.rounds} round(s), batch {args.batch_size}, latent "
        f"{args.latent_dim}, beta 1, {args.train_limit} training images (10% held out), "
        f"{args.test_limit} test images, real CIFAR-10 from {directory}",
        markdown=md,
    )
    print(table(["", *names], rows, markdown=md))
    say(note, markdown=md)


if __name__ == "__main__":
    main()
