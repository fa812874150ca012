"""Run the ``vae-cifar10`` experiment: the VAE of :mod:`~service.training.vae_model`
trained ``runs`` times on CIFAR-10's images (labels unused), then scored on the test set.

``run_vae`` reports through ``emit`` as :mod:`service.training.experiment` does:

- ``{"event": "data", "train": n, "validation": v, "test": m}`` once the data is ready;
- ``{"event": "epoch", "loss": "vae", "run", "epoch", "epochs", "metrics": {...},
  "seconds"}``, the metrics being ``reconstruction_loss``, ``kl_loss``, ``loss`` and their
  ``val_`` versions (per-image means; no ``val_`` keys when nothing is held out),
  ``active_units`` and ``beta`` (the epoch's ``beta_t``);
- ``{"event": "run", "loss": "vae", "run", "test": {"negative_elbo", "bits_per_dim",
  "reconstruction_loss", "kl_loss"}, "seconds"}`` after a run.

KL warm-up: epoch e (counted from 0) weighs the KL by ``beta * min(1, (e + 1) / w)`` with
``w = kl_warmup_epochs``, so the last warm-up epoch has the full ``beta``; ``w = 0`` means
``beta`` throughout. Active units (Burda et al., 2016): latent dimensions whose posterior
mean varies over the validation images (the training images when none are held out) with
variance above 0.01. The test ``negative_elbo`` is reconstruction + KL (beta = 1) in nats
per image, ``bits_per_dim`` that over 3072 ln 2. Run r seeds the weights and the noise with
seed + r; the data order depends on ``seed`` alone.
"""

import base64
import io
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
from PIL import Image
from scipy.special import expit

from service.training.data import load_for
from service.training.vae_model import VariationalAutoencoder
from service.training.vae_params import VaeParams
from service.training.vae_summary import HISTORY_KEYS, summarize_vae

Event = dict[str, Any]
Emit = Callable[[Event], None]
DIMENSIONS = 32 * 32 * 3
ACTIVE_VARIANCE = 0.01
LOSS = "vae"


def beta_at(epoch: int, beta: float, warmup_epochs: int) -> float:
    """The KL weight of epoch ``epoch`` (from 0): ``beta * min(1, (epoch + 1) / warmup)``."""
    return beta if warmup_epochs == 0 else beta * min(1.0, (epoch + 1) / warmup_epochs)


def active_units(means: np.ndarray) -> int:
    """How many columns of ``means`` (posterior means, one row per image) vary by > 0.01."""
    return int(np.sum(np.var(means.astype(np.float64), axis=0) > ACTIVE_VARIANCE))


def run_vae(
    params: VaeParams, *, cifar10_dir: Path | None, emit: Emit, verbose: int = 0
) -> dict[str, Any]:
    """Train and test every run; return ``{"runs": [...], "summary": {...}, "images": {...}}``."""
    x_train, _, x_test, _ = load_for(params, cifar10_dir)
    validation = int(len(x_train) * params.validation_split)
    x_fit, x_validation = x_train[: len(x_train) - validation], x_train[len(x_train) - validation :]
    emit({"event": "data", "train": len(x_fit), "validation": validation, "test": len(x_test)})
    runs: list[dict[str, Any]] = []
    model = None
    for run in range(1, params.runs + 1):
        keras.utils.set_random_seed(params.seed + run)
        model = VariationalAutoencoder(params.latent_dim, seed=params.seed + run)
        model.compile(optimizer=keras.optimizers.Adam(params.learning_rate))
        reporter = _EpochReporter(emit, run, params, x_validation if validation else x_fit)
        started = time.perf_counter()
        model.fit(
            x_fit,
            batch_size=params.batch_size,
            epochs=params.epochs,
            validation_data=(x_validation,) if validation else None,
            shuffle=True,
            verbose=verbose,
            callbacks=[reporter],
        )
        test = _test_scores(model.evaluate(x_test, batch_size=1000, verbose=0, return_dict=True))
        record = {
            "loss": LOSS,
            "run": run,
            "history": reporter.history,
            "test": test,
            "seconds": time.perf_counter() - started,
            "epoch_seconds": reporter.seconds,
        }
        emit({"event": "run", **{k: record[k] for k in ("loss", "run", "test", "seconds")}})
        runs.append(record)
    assert model is not None  # params.runs >= 1
    return {"runs": runs, "summary": summarize_vae(runs), "images": _images(model, x_test, params)}


def _test_scores(logs: dict[str, Any]) -> dict[str, float]:
    reconstruction, kl = float(logs["reconstruction_loss"]), float(logs["kl_loss"])
    negative_elbo = reconstruction + kl
    return {
        "negative_elbo": negative_elbo,
        "bits_per_dim": negative_elbo / (DIMENSIONS * math.log(2)),
        "reconstruction_loss": reconstruction,
        "kl_loss": kl,
    }


class _EpochReporter(keras.callbacks.Callback):
    """Sets each epoch's ``beta_t``; at its end counts active units, records and emits."""

    def __init__(self, emit: Emit, run: int, params: VaeParams, x_units: np.ndarray) -> None:
        super().__init__()
        self._emit, self._run, self._params, self._x_units = emit, run, params, x_units
        self._started = 0.0
        self.seconds: list[float] = []
        self.history: dict[str, list[float]] = {}

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._started = time.perf_counter()
        p = self._params
        self.model.beta.assign(beta_at(epoch, p.beta, p.kl_warmup_epochs))

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        means = _posterior_means(self.model, self._x_units)
        metrics = {k: float(v) for k, v in (logs or {}).items() if k in HISTORY_KEYS}
        metrics["active_units"] = active_units(means)
        metrics["beta"] = float(self.model.beta.numpy())
        for key, value in metrics.items():
            self.history.setdefault(key, []).append(value)
        self.seconds.append(time.perf_counter() - self._started)
        self._emit(
            {
                "event": "epoch",
                "loss": LOSS,
                "run": self._run,
                "epoch": epoch + 1,
                "epochs": self._params.epochs,
                "metrics": metrics,
                "seconds": self.seconds[-1],
            }
        )


def _posterior_means(model: VariationalAutoencoder, images: np.ndarray) -> np.ndarray:
    """The encoder's means, called directly in chunks: ``predict`` would trace a function
    for every model and every new batch shape."""
    chunks = [model.encoder(images[i : i + 1000])[0] for i in range(0, len(images), 1000)]
    return np.concatenate([keras.ops.convert_to_numpy(c) for c in chunks])


def _images(model: VariationalAutoencoder, x_test: np.ndarray, params: VaeParams) -> dict[str, str]:
    """Base64 PNGs: up to 8 test images above their reconstructions (decoder means at the
    posterior means), and an 8x8 grid of decoder means of z ~ N(0, I) seeded by ``seed``."""
    originals = x_test[:8]
    reconstructions = expit(keras.ops.convert_to_numpy(model(originals)))
    z = np.random.default_rng(params.seed).standard_normal((64, params.latent_dim))
    samples = expit(keras.ops.convert_to_numpy(model.decoder(z.astype(np.float32))))
    return {
        "reconstructions": _png(_grid(np.concatenate([originals, reconstructions]), rows=2)),
        "samples": _png(_grid(samples, rows=8)),
    }


def _grid(images: np.ndarray, rows: int) -> np.ndarray:
    """(rows * cols, h, w, c) images in [0, 1] -> one (rows * h, cols * w, c) uint8 picture."""
    n, h, w, c = images.shape
    cols = n // rows
    tiles = images[: rows * cols].reshape(rows, cols, h, w, c).transpose(0, 2, 1, 3, 4)
    return np.round(np.clip(tiles.reshape(rows * h, cols * w, c), 0, 1) * 255).astype(np.uint8)


def _png(pixels: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
