"""Run the experiment: the same CNN trained with each loss, ``runs`` times, then tested.

``run_experiment`` is what the worker's child process, the tests and the
``divergence-service experiment`` command all call. It reports as it goes through
``emit``, one event (a JSON-ready dict) at a time:

- ``{"event": "data", "train": n, "validation": v, "test": m}`` once the data is ready;
- ``{"event": "epoch", "loss", "run", "epoch", "epochs", "metrics": {...}, "seconds"}``;
- ``{"event": "run", "loss", "run", "test": {"loss", "accuracy"}, "seconds"}`` after a run.

This module imports Keras (and so TensorFlow): only the training process imports it.
Run r of every loss starts from the same weights (seed + r), so the losses are compared
on equal terms; the data order depends on ``seed`` alone.
"""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras

from service.training.data import load_for
from service.training.model import build_model, make_loss
from service.training.params import ExperimentParams
from service.training.summary import summarize

Event = dict[str, Any]
Emit = Callable[[Event], None]


def run_experiment(
    params: ExperimentParams, *, cifar10_dir: Path | None, emit: Emit, verbose: int = 0
) -> dict[str, Any]:
    """Train and test every (run, loss); return ``{"runs": [...], "summary": {...}}``."""
    x_train, y_train, x_test, y_test = load_for(params, cifar10_dir)
    validation = int(len(x_train) * params.validation_split)
    emit(
        {
            "event": "data",
            "train": len(x_train) - validation,
            "validation": validation,
            "test": len(x_test),
        }
    )
    runs: list[dict[str, Any]] = []
    for run in range(1, params.runs + 1):
        for loss in params.losses:
            keras.utils.set_random_seed(params.seed + run)
            model = build_model()
            model.compile(
                optimizer=keras.optimizers.Adam(), loss=make_loss(loss), metrics=["accuracy"]
            )
            started = time.perf_counter()
            reporter = _EpochReporter(emit, loss, run, params.epochs)
            history = model.fit(
                x_train,
                y_train,
                batch_size=params.batch_size,
                epochs=params.epochs,
                validation_split=params.validation_split,
                shuffle=True,
                verbose=verbose,
                callbacks=[reporter],
            )
            test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
            record = {
                "loss": loss,
                "run": run,
                "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
                "test": {"loss": float(test_loss), "accuracy": float(test_accuracy)},
                "seconds": time.perf_counter() - started,
                "epoch_seconds": reporter.seconds,
            }
            emit({"event": "run", **{k: record[k] for k in ("loss", "run", "test", "seconds")}})
            runs.append(record)
    return {"runs": runs, "summary": summarize(runs, params.losses)}


class _EpochReporter(keras.callbacks.Callback):
    """A Keras callback that emits an ``epoch`` event at the end of every epoch."""

    def __init__(self, emit: Emit, loss: str, run: int, epochs: int) -> None:
        super().__init__()
        self._emit, self._loss, self._run, self._epochs = emit, loss, run, epochs
        self._started = 0.0
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._started)
        self._emit(
            {
                "event": "epoch",
                "loss": self._loss,
                "run": self._run,
                "epoch": epoch + 1,
                "epochs": self._epochs,
                "metrics": {k: float(v) for k, v in (logs or {}).items()},
                "seconds": time.perf_counter() - self._started,
            }
        )
