"""The experiment itself: seeded and repeatable, its terminal command, Keras' own data."""

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import keras
import numpy as np
import pytest

from service.training.data import load_cifar10, prepare
from service.training.model import build_model
from tests.conftest import ROOT, jobs_env, start_server, stop_server
from tests.jobs.helpers import QUICK, finished, submit, wait_for


def test_the_same_seed_gives_the_same_data_order_and_initial_weights(tiny_cifar: Path) -> None:
    arrays = load_cifar10(tiny_cifar)
    first = prepare(arrays, seed=3, train_limit=50, test_limit=20)
    again = prepare(arrays, seed=3, train_limit=50, test_limit=20)
    other = prepare(arrays, seed=4, train_limit=50, test_limit=20)
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a, b)
    assert not np.array_equal(first[1], other[1])
    weights = []
    for seed in (7, 7, 8):
        keras.utils.set_random_seed(seed)
        weights.append(build_model().get_weights()[0])
    assert np.array_equal(weights[0], weights[1]) and not np.array_equal(weights[0], weights[2])


def test_prepare_shuffles_before_the_validation_split(tiny_cifar: Path) -> None:
    _, y_train, _, _ = prepare(load_cifar10(tiny_cifar), seed=0, train_limit=None, test_limit=None)
    last_fifth = y_train[-len(y_train) // 5 :].argmax(axis=1)
    assert len(set(last_fifth.tolist())) == 10, "files come grouped by class"


def test_the_experiment_command_writes_the_results_json(tiny_cifar: Path, tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "service",
            "experiment",
            "--epochs",
            "2",
            "--runs",
            "1",
            "--batch-size",
            "32",
            "--cifar10-dir",
            str(tiny_cifar),
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(output.read_text())
    assert [(r["loss"], r["run"]) for r in results["runs"]] == [("kl", 1), ("ce", 1)]
    assert set(results["summary"]) == {"kl", "ce", "comparison"}
    assert "Epoch 2/2" in done.stdout and results["summary"]["comparison"]["verdict"] in done.stdout


def test_the_experiment_command_reports_missing_data(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "service", "experiment", "--cifar10-dir", str(tmp_path / "no")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "does not exist" in done.stderr


def _dataset_host_resolves() -> bool:
    try:
        socket.getaddrinfo("www.cs.toronto.edu", 443)
    except OSError:
        return False
    return True


@pytest.mark.skipif(_dataset_host_resolves(), reason="online: Keras would download 170 MB")
def test_without_a_local_copy_keras_is_asked_and_its_failure_is_reported_fast(
    tmp_path: Path,
) -> None:
    env = jobs_env(tmp_path / "data", tmp_path)
    env["DIVERGENCE_CIFAR10_DIR"] = ""
    env["KERAS_HOME"] = str(tmp_path / "keras")
    server = start_server(tmp_path, env=env)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            started = time.monotonic()
            job = submit(client, **QUICK)
            failed = wait_for(client, job["id"], finished, timeout=120)
        assert failed["status"] == "failed"
        assert "Keras could not load CIFAR-10" in failed["error"]
        assert time.monotonic() - started < 60
    finally:
        stop_server(server)


def test_the_experiment_command_runs_the_vae_too(tiny_cifar: Path, tmp_path: Path) -> None:
    output = tmp_path / "vae.json"
    command = [sys.executable, "-m", "service", "experiment", "--experiment", "vae-cifar10"]
    options = ["--epochs", "1", "--batch-size", "32", "--latent-dim", "4", "--beta", "0.5"]
    done = subprocess.run(
        [*command, *options, "--cifar10-dir", str(tiny_cifar), "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(output.read_text())
    assert results["runs"][0]["history"]["beta"] == [0.5]
    assert f"training on: {', '.join(results['devices'])}" in done.stdout
    assert results["summary"]["negative_elbo_mean"] > 0
    refused = subprocess.run(
        [*command, "--beta", "-1", "--cifar10-dir", str(tiny_cifar)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "beta" in refused.stderr
