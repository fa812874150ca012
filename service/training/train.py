"""Running an experiment of :mod:`service.training.experiments` in this process: what the
job's child process (:mod:`service.training.child`) and the ``experiment`` command do.
Importing this module imports TensorFlow; the declarations stay free of it.
"""

import importlib
from pathlib import Path
from typing import Any

import tensorflow as tf
from pydantic import BaseModel

from service.training.experiments import EXPERIMENTS, Emit


def run(
    name: str, params: BaseModel, *, cifar10_dir: Path | None, emit: Emit, verbose: int = 0
) -> dict[str, Any]:
    """Train experiment ``name`` with its trainer; return its results with ``devices``.

    Emits ``{"event": "devices", "devices": [...]}`` (:func:`devices`) first, then the
    trainer's events (:mod:`service.training.experiment`).
    """
    module, function = EXPERIMENTS[name].trainer.split(":")
    trainer = getattr(importlib.import_module(module), function)
    used = devices()
    emit({"event": "devices", "devices": used})
    results: dict[str, Any] = trainer(params, cifar10_dir=cifar10_dir, emit=emit, verbose=verbose)
    return {**results, "devices": used}


def devices() -> list[str]:
    """The GPUs TensorFlow trains on, by name (``"NVIDIA H200"``), else ``["CPU"]``."""
    names = [
        tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
        for gpu in tf.config.list_physical_devices("GPU")
    ]
    return names or ["CPU"]
