"""CIFAR-10 from a local copy (either official format) or Keras' own download.

``load_cifar10(directory)`` returns ``(x_train, y_train, x_test, y_test)``: uint8 images
of shape (n, 32, 32, 3) and integer labels 0..9 in CIFAR-10's class order. A directory may
hold the official ``cifar-10-batches-py`` pickles or the image-folder layout
``train/<class>/*.{png,jpg}`` and ``test/<class>/*`` (also one level down, as the shared
``cifar10-jpeg`` archive unpacks). Anything missing or unreadable raises
:class:`DataError` with the reason, at once.
"""

import pickle
from pathlib import Path

import numpy as np

from service.training.params import DataParams

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class DataError(Exception):
    """CIFAR-10 could not be found or read; the message says where and why."""


def load_cifar10(directory: Path | None) -> Arrays:
    """The four CIFAR-10 arrays from ``directory``, or from Keras when it is None."""
    if directory is None:
        return _from_keras()
    if not directory.is_dir():
        raise DataError(f"CIFAR-10 directory {directory} does not exist")
    for candidate in (directory, *sorted(p for p in directory.iterdir() if p.is_dir())):
        if (candidate / "data_batch_1").is_file():
            return _from_batches(candidate)
        if (candidate / "train").is_dir() and (candidate / "test").is_dir():
            return _from_image_folders(candidate)
    raise DataError(
        f"no CIFAR-10 in {directory}: expected cifar-10-batches-py files (data_batch_1 ... "
        "test_batch) or train/<class>/ and test/<class>/ image folders"
    )


def _from_keras() -> Arrays:
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    except Exception as error:  # no network, a corrupt cache, ...
        raise DataError(
            f"Keras could not load CIFAR-10: {error}; set DIVERGENCE_CIFAR10_DIR to a local copy"
        ) from error
    return x_train, y_train.reshape(-1), x_test, y_test.reshape(-1)


def _unpickle(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with path.open("rb") as f:
            batch = pickle.load(f, encoding="bytes")
        images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (OSError, pickle.UnpicklingError, KeyError, ValueError, EOFError) as error:
        raise DataError(f"cannot read CIFAR-10 batch {path}: {error}") from error
    return images.transpose(0, 2, 3, 1), labels


def _from_batches(directory: Path) -> Arrays:
    train = [_unpickle(directory / f"data_batch_{i}") for i in range(1, 6)]
    x_test, y_test = _unpickle(directory / "test_batch")
    return (
        np.concatenate([x for x, _ in train]),
        np.concatenate([y for _, y in train]),
        x_test,
        y_test,
    )


def _read_split(directory: Path) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image, UnidentifiedImageError

    files: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(CLASSES):
        found = (
            sorted(p for p in (directory / name).glob("*") if p.suffix.lower() in _IMAGE_SUFFIXES)
            if (directory / name).is_dir()
            else []
        )
        if not found:
            raise DataError(f"no images in {directory / name}")
        files += found
        labels += [label] * len(found)
    images = np.empty((len(files), 32, 32, 3), dtype=np.uint8)
    for i, path in enumerate(files):
        try:
            with Image.open(path) as image:
                images[i] = np.asarray(image.convert("RGB"))
        except (OSError, UnidentifiedImageError, ValueError) as error:
            raise DataError(f"cannot read image {path} as a 32x32 picture: {error}") from error
    return images, np.asarray(labels, dtype=np.int64)


def _from_image_folders(directory: Path) -> Arrays:
    return (*_read_split(directory / "train"), *_read_split(directory / "test"))


def prepare(
    arrays: Arrays, *, seed: int, train_limit: int | None, test_limit: int | None
) -> Arrays:
    """Shuffle both splits with ``seed`` (files are grouped by class), keep the first
    ``*_limit`` examples, scale pixels to [0, 1] (float32) and one-hot the labels."""
    x_train, y_train, x_test, y_test = arrays
    rng = np.random.default_rng(seed)
    train = rng.permutation(len(x_train))[:train_limit]
    test = rng.permutation(len(x_test))[:test_limit]
    eye = np.eye(len(CLASSES), dtype=np.float32)
    return (
        x_train[train].astype(np.float32) / 255,
        eye[y_train[train]],
        x_test[test].astype(np.float32) / 255,
        eye[y_test[test]],
    )


def load_for(params: DataParams, directory: Path | None) -> Arrays:
    """CIFAR-10 from ``directory`` (Keras' when None), prepared as ``params`` say: the
    seeded shuffle and the limits of :func:`prepare`."""
    return prepare(
        load_cifar10(directory),
        seed=params.seed,
        train_limit=params.train_limit,
        test_limit=params.test_limit,
    )
