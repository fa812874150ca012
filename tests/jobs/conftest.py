"""Fixtures for the jobs: a tiny learnable CIFAR-10-shaped image folder, and a server
whose embedded worker trains on it with short heartbeats."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from service.training.data import CLASSES
from tests.conftest import Server, start_server, stop_server


def make_image_folders(root: Path, train_per_class: int = 30, test_per_class: int = 10) -> Path:
    """train/<class>/*.png and test/<class>/*.png: each class a noisy colour of its own,
    so a few epochs learn it well above chance."""
    rng = np.random.default_rng(0)
    for split, count in (("train", train_per_class), ("test", test_per_class)):
        for label, name in enumerate(CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True)
            colour = np.array([label * 37 % 256, label * 91 % 256, label * 151 % 256])
            for i in range(count):
                pixels = np.clip(colour + rng.normal(0, 20, (32, 32, 3)), 0, 255)
                Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{i:04d}.png")
    return root


@pytest.fixture(scope="session")
def tiny_cifar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_image_folders(tmp_path_factory.mktemp("tiny-cifar"))


def jobs_env(data_dir: Path, cifar_dir: Path) -> dict[str, str]:
    return {
        "DIVERGENCE_DATA_DIR": str(data_dir),
        "DIVERGENCE_CIFAR10_DIR": str(cifar_dir),
        "DIVERGENCE_WARM_TENSORFLOW": "false",
        "DIVERGENCE_HEARTBEAT_SECONDS": "0.5",
        "DIVERGENCE_STALE_AFTER_SECONDS": "5",
        "DIVERGENCE_CANCEL_GRACE_SECONDS": "5",
        "DIVERGENCE_MAX_EPOCHS": "500",
    }


@pytest.fixture(scope="module")
def jobs_server(tmp_path_factory: pytest.TempPathFactory, tiny_cifar: Path) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("jobs")
    server = start_server(tmp, env=jobs_env(tmp / "data", tiny_cifar))
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def jobs_client(jobs_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=jobs_server.url, timeout=30) as http:
        yield http
