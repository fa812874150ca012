"""The VAE experiment on the tiny image folders: its history, its loss, its KL, its scores
and pictures, and its repeatability."""

import base64
import io
import math
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from service.divergences.gaussian import kl_diagonal_gaussians, kl_to_standard_normal
from service.training.vae import active_units, beta_at, run_vae
from service.training.vae_params import VaeParams
from service.training.vae_summary import summarize_vae

METRICS = ["reconstruction_loss", "kl_loss", "loss"]
KEYS = {*METRICS, *(f"val_{m}" for m in METRICS), "active_units", "beta"}
TINY = {"epochs": 2, "batch_size": 32, "latent_dim": 4, "kl_warmup_epochs": 2, "beta": 1.0}


def train(cifar: Path, **params: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    results = run_vae(VaeParams(**{**TINY, **params}), cifar10_dir=cifar, emit=events.append)
    return results, events


@pytest.fixture(scope="module")
def trained(tiny_cifar: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return train(tiny_cifar)


def test_the_history_has_every_metric_once_per_epoch(trained: Any) -> None:
    results, _ = trained
    (run,) = results["runs"]
    assert set(run["history"]) == KEYS
    assert all(len(values) == 2 for values in run["history"].values())
    assert len(run["epoch_seconds"]) == 2 and run["loss"] == "vae" and run["run"] == 1


def test_the_loss_is_reconstruction_plus_beta_t_times_kl_in_every_epoch(trained: Any) -> None:
    history = trained[0]["runs"][0]["history"]
    for prefix in ("", "val_"):
        for rec, kl, loss, beta in zip(
            history[f"{prefix}reconstruction_loss"],
            history[f"{prefix}kl_loss"],
            history[f"{prefix}loss"],
            history["beta"],
            strict=True,
        ):
            assert loss == pytest.approx(rec + beta * kl, rel=1e-5)


def test_two_warm_up_epochs_weigh_the_kl_by_half_beta_then_beta(trained: Any) -> None:
    assert trained[0]["runs"][0]["history"]["beta"] == [0.5, 1.0]


@pytest.mark.parametrize(
    ("epoch", "beta", "warmup", "expected"),
    [(0, 2.0, 0, 2.0), (0, 2.0, 4, 0.5), (3, 2.0, 4, 2.0), (9, 2.0, 4, 2.0), (0, 0.0, 3, 0.0)],
)
def test_beta_grows_linearly_to_beta_over_the_warm_up_epochs(
    epoch: int, beta: float, warmup: int, expected: float
) -> None:
    assert beta_at(epoch, beta, warmup) == expected


def test_the_keras_kl_equals_the_numpy_formula() -> None:
    rng = np.random.default_rng(0)
    mean = rng.normal(0, 2, (16, 5)).astype(np.float32)
    log_variance = rng.normal(0, 1.5, (16, 5)).astype(np.float32)
    expected = kl_diagonal_gaussians(
        mean.astype(np.float64), log_variance.astype(np.float64), np.zeros(5), np.zeros(5)
    )
    got = keras.ops.convert_to_numpy(kl_to_standard_normal(mean, log_variance, ops=keras.ops))
    assert got.shape == (16,)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(kl_to_standard_normal(mean, log_variance), expected, rtol=1e-6)


def test_active_units_count_the_latent_means_that_vary_by_more_than_a_hundredth() -> None:
    means = np.stack([np.linspace(-1, 1, 100), np.full(100, 3.0), np.linspace(0, 0.1, 100)], 1)
    assert active_units(means) == 1


def test_the_test_scores_are_the_elbo_in_nats_and_bits_per_dimension(trained: Any) -> None:
    results, events = trained
    test = results["runs"][0]["test"]
    assert test["negative_elbo"] == pytest.approx(test["reconstruction_loss"] + test["kl_loss"])
    assert test["bits_per_dim"] == pytest.approx(test["negative_elbo"] / (3072 * math.log(2)))
    assert results["summary"] == {
        "negative_elbo_mean": test["negative_elbo"],
        "negative_elbo_std": None,
        "bits_per_dim_mean": test["bits_per_dim"],
        "runs": 1,
    }
    assert events[-1] == {
        "event": "run",
        "loss": "vae",
        "run": 1,
        "test": test,
        "seconds": events[-1]["seconds"],
    }


def test_the_events_announce_the_data_then_each_epoch_then_the_run(trained: Any) -> None:
    results, events = trained
    assert events[0] == {"event": "data", "train": 270, "validation": 30, "test": 100}
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [(e["loss"], e["run"], e["epoch"], e["epochs"]) for e in epochs] == [
        ("vae", 1, 1, 2),
        ("vae", 1, 2, 2),
    ]
    history = results["runs"][0]["history"]
    assert [e["metrics"] for e in epochs] == [{k: v[i] for k, v in history.items()} for i in (0, 1)]
    assert [e["event"] for e in events] == ["data", "epoch", "epoch", "run"]


def test_the_pictures_decode_as_pngs_of_the_grid_sizes(trained: Any) -> None:
    images = trained[0]["images"]
    sizes = {}
    for name, encoded in images.items():
        with Image.open(io.BytesIO(base64.b64decode(encoded))) as picture:
            assert picture.format == "PNG" and picture.mode == "RGB"
            sizes[name] = picture.size
    assert sizes == {"reconstructions": (8 * 32, 2 * 32), "samples": (8 * 32, 8 * 32)}


def test_the_same_seed_gives_the_same_history(trained: Any, tiny_cifar: Path) -> None:
    again, _ = train(tiny_cifar)
    assert again["runs"][0]["history"] == trained[0]["runs"][0]["history"]
    assert again["runs"][0]["test"] == trained[0]["runs"][0]["test"]
    assert again["images"] == trained[0]["images"]


def test_without_a_validation_split_there_are_no_val_metrics(tiny_cifar: Path) -> None:
    results, events = train(
        tiny_cifar, epochs=1, runs=2, validation_split=0.0, train_limit=64, test_limit=4
    )
    assert events[0] == {"event": "data", "train": 64, "validation": 0, "test": 4}
    assert set(results["runs"][1]["history"]) == {*METRICS, "active_units", "beta"}
    assert results["summary"]["runs"] == 2 and results["summary"]["negative_elbo_std"] >= 0
    with Image.open(io.BytesIO(base64.b64decode(results["images"]["reconstructions"]))) as p:
        assert p.size == (4 * 32, 2 * 32)


@pytest.mark.parametrize(
    "bad", [{"beta": -1.0}, {"beta": math.inf}, {"learning_rate": 0.0}, {"latent_dim": 0}]
)
def test_the_parameters_refuse_values_out_of_range(bad: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        VaeParams.model_validate(bad)


def test_the_summary_is_null_before_a_run_ends_and_has_a_std_after_two() -> None:
    def run(elbo: float) -> dict[str, Any]:
        return {"test": {"negative_elbo": elbo, "bits_per_dim": elbo / (3072 * math.log(2))}}

    assert summarize_vae([]) is None
    summary = summarize_vae([run(2000.0), run(2010.0)])
    assert summary is not None
    assert summary["negative_elbo_mean"] == 2005.0 and summary["runs"] == 2
    assert summary["negative_elbo_std"] == pytest.approx(math.sqrt(50))
    assert summary["bits_per_dim_mean"] == pytest.approx(2005.0 / (3072 * math.log(2)))
