"""The ``vae-cifar10`` job's training core against the same VAE written in plain Keras.

    python benchmarks/plain_keras_vae.py [CIFAR10_DIR] [--epochs 2] [--train-limit 5000]
        [--test-limit 1000] [--batch-size 128] [--latent-dim 32] [--rounds 1] [--markdown]

CIFAR10_DIR defaults to ../shared/data/cifar10-jpeg.tar.gz unpacked into a temporary
folder. Each round, in this one process, trains the VAE once the plain way (the model
below, written after Keras' own VAE example: its own layers, KL and loop, nothing from
``service.training.vae*``) and once through ``run_vae`` (what a job's child process runs),
alternating which goes first, on the same data (same loader, same seeded shuffle and
split), seeds, epochs and batch size. It prints seconds per epoch both ways (the first
epoch, which also traces, and the median of the others) and the final test negative ELBO
(nats per image) and bits per dimension. ``run_vae`` also counts active units after each
epoch (one pass of the encoder over the validation images): that is in its seconds.
Target: the same ELBO within noise, epochs within 5%.
"""

import argparse
import math
import statistics
import sys
import tarfile
import tempfile
from pathlib import Path

import keras
import tensorflow as tf
from keras import layers, ops

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import ROOT, machine_note, markdown_option, say, table
from plain_keras import EpochTimer

from service.training.data import load_cifar10, prepare
from service.training.vae import run_vae
from service.training.vae_params import VaeParams

unpack = keras.utils.unpack_x_y_sample_weight
ARCHIVE = ROOT.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"


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


def plain(directory: Path, params: VaeParams) -> tuple[list[float], float]:
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


def through_run_vae(directory: Path, params: VaeParams) -> tuple[list[float], float]:
    results = run_vae(params, cifar10_dir=directory, emit=lambda event: None)
    (run,) = results["runs"]
    return run["epoch_seconds"], float(run["test"]["negative_elbo"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cifar10_dir", nargs="?", type=Path)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--train-limit", type=int, default=5000)
    parser.add_argument("--test-limit", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=1)
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
    seconds: dict[str, list[list[float]]] = {"plain": [], "service": []}
    elbo: dict[str, list[float]] = {"plain": [], "service": []}
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.cifar10_dir
        if directory is None:
            with tarfile.open(ARCHIVE) as archive:
                archive.extractall(Path(tmp) / "cifar", filter="data")
            directory = Path(tmp) / "cifar"
        sides = [("plain", plain), ("service", through_run_vae)]
        for round_ in range(args.rounds):
            # Alternating which side goes first spreads the drift of a shared machine.
            for name, train in sides if round_ % 2 == 0 else sides[::-1]:
                epoch_seconds, negative_elbo = train(directory, params)
                seconds[name].append(epoch_seconds)
                elbo[name].append(negative_elbo)
    note = machine_note()

    def later(name: str) -> float:
        return statistics.median(s for run in seconds[name] for s in run[1:])

    def first(name: str) -> float:
        return statistics.median(run[0] for run in seconds[name])

    def mean_elbo(name: str) -> float:
        return statistics.fmean(elbo[name])

    bits = 32 * 32 * 3 * math.log(2)
    rows = [
        ["first epoch s (with tracing)", *(f"{first(n):.2f}" for n in seconds)],
        ["s/epoch, later epochs (median)", *(f"{later(n):.2f}" for n in seconds)],
        ["test negative ELBO, nats/image", *(f"{mean_elbo(n):.2f}" for n in elbo)],
        ["test bits/dim", *(f"{mean_elbo(n) / bits:.4f}" for n in elbo)],
    ]
    rows = [[*row, f"{float(row[2]) / float(row[1]):.3f}"] for row in rows]
    say(
        f"{args.epochs} epochs, {args.rounds} round(s), batch {args.batch_size}, latent "
        f"{args.latent_dim}, beta 1, {args.train_limit} training images (10% held out), "
        f"{args.test_limit} test images, real CIFAR-10 from {directory}",
        markdown=md,
    )
    print(table(["", "plain Keras", "run_vae", "run_vae/plain"], rows, markdown=md))
    say(note, markdown=md)


if __name__ == "__main__":
    main()
