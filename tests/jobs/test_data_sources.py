"""CIFAR-10 in either local format, and (slow) the real data in ../shared/data."""

import math
import pickle
import tarfile
from pathlib import Path

import httpx
import numpy as np
import pytest

from service.training.data import load_cifar10
from tests.conftest import ROOT, jobs_env, start_server, stop_server
from tests.jobs.helpers import finished, submit, wait_for

ARCHIVE = ROOT.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"


def write_batches(folder: Path, per_batch: int = 20) -> np.ndarray:
    """The official cifar-10-batches-py layout, with small learnable batches."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    first = None
    for name in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
        labels = rng.integers(0, 10, per_batch)
        planes = np.stack([np.full((3, 32, 32), 20 * label) for label in labels])
        data = (
            (planes + rng.integers(0, 10, planes.shape)).astype(np.uint8).reshape(per_batch, 3072)
        )
        with (folder / name).open("wb") as f:
            pickle.dump({b"data": data, b"labels": labels.tolist()}, f)
        first = data if first is None else first
    assert first is not None
    return first


def test_official_batches_load_as_channels_last_images(tmp_path: Path) -> None:
    first = write_batches(tmp_path / "cifar-10-batches-py")
    x_train, y_train, x_test, y_test = load_cifar10(tmp_path)
    assert len(y_test) == 20
    assert x_train.shape == (100, 32, 32, 3) and x_test.shape == (20, 32, 32, 3)
    assert y_train.dtype == np.int64 and set(y_train) <= set(range(10))
    # channel c of pixel (i, j) is byte c*1024 + i*32 + j of the row
    assert x_train[0, 5, 7, 2] == first[0, 2 * 1024 + 5 * 32 + 7]


def test_a_job_trains_on_the_official_batches_format(tmp_path: Path) -> None:
    write_batches(tmp_path / "cifar" / "cifar-10-batches-py", per_batch=60)
    server = start_server(tmp_path, env=jobs_env(tmp_path / "data", tmp_path / "cifar"))
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            job = submit(client, epochs=5, batch_size=32, runs=1, losses=["ce"])
            done = wait_for(client, job["id"], finished)
        assert done["status"] == "succeeded", done["error"]
        assert done["results"]["runs"][0]["test"]["accuracy"] > 0.2  # chance is 0.1
    finally:
        stop_server(server)


@pytest.mark.slow
@pytest.mark.skipif(not ARCHIVE.exists(), reason="../shared/data/cifar10-jpeg.tar.gz is absent")
def test_the_real_cifar10_trains_above_chance_through_the_service(tmp_path: Path) -> None:
    with tarfile.open(ARCHIVE) as archive:
        archive.extractall(tmp_path / "cifar", filter="data")
    x_train, _, x_test, _ = load_cifar10(tmp_path / "cifar")
    assert x_train.shape == (50_000, 32, 32, 3) and x_test.shape == (10_000, 32, 32, 3)
    assert 120 < x_train.mean() < 121.5  # the README of the data: 120.69
    server = start_server(tmp_path, env=jobs_env(tmp_path / "data", tmp_path / "cifar"))
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            job = submit(client, epochs=2, runs=1, train_limit=10_000, test_limit=2_000)
            done = wait_for(client, job["id"], finished, timeout=600)
        assert done["status"] == "succeeded", done["error"]
        for run in done["results"]["runs"]:
            assert run["test"]["accuracy"] > 0.25, run  # ten classes: chance is 0.1
            assert min(run["history"]["val_accuracy"]) > 0.15, "shuffled before the split"
        assert set(done["results"]["summary"]) >= {"kl", "ce", "comparison"}
        with httpx.Client(base_url=server.url, timeout=30) as client:
            vae = client.post(
                "/jobs",
                json={
                    "experiment": "vae-cifar10",
                    "epochs": 2,
                    "train_limit": 10_000,
                    "test_limit": 2_000,
                },
            )
            assert vae.status_code == 202, vae.text
            done = wait_for(client, vae.json()["id"], finished, timeout=600)
        assert done["status"] == "succeeded", done["error"]
        run = done["results"]["runs"][0]
        # Better than a fair coin for each of the 3,072 values (3072 ln 2 = 2129 nats), and
        # learning: the reconstruction falls, the KL carries information, units are used.
        assert run["test"]["negative_elbo"] < 3072 * math.log(2), run["test"]
        assert (
            run["history"]["val_reconstruction_loss"][1]
            < run["history"]["val_reconstruction_loss"][0]
        )
        assert run["test"]["kl_loss"] > 1 and run["history"]["active_units"][-1] >= 1
    finally:
        stop_server(server)
