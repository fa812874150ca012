"""The plain-Keras baseline of ``training_overhead.py``: the seed CNN trained the plain way.

    python benchmarks/plain_keras.py CIFAR10_DIR EPOCHS LOSS

Loads the same data the service loads (same loader, same seeded shuffle), builds the model
inline, fits with ``validation_split=0.2`` and prints one JSON line: per-epoch seconds,
the time to load the data and the whole wall time of the script.
"""

import json
import sys
import time

START = time.perf_counter()

import keras  # noqa: E402

from service.training.data import load_cifar10, prepare  # noqa: E402


class EpochTimer(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: object = None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: object = None) -> None:
        self.seconds.append(time.perf_counter() - self.started)


def main() -> None:
    directory, epochs, loss = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    loaded = time.perf_counter()
    x_train, y_train, x_test, y_test = prepare(
        load_cifar10(__import__("pathlib").Path(directory)),
        seed=0,
        train_limit=None,
        test_limit=None,
    )
    load_seconds = time.perf_counter() - loaded
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            keras.layers.Conv2D(32, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Dropout(0.5),
            keras.layers.Conv2D(64, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Dropout(0.5),
            keras.layers.Flatten(),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam",
        metrics=["accuracy"],
        loss="kl_divergence" if loss == "kl" else "categorical_crossentropy",
    )
    timer = EpochTimer()
    model.fit(
        x_train,
        y_train,
        batch_size=250,
        epochs=epochs,
        validation_split=0.2,
        verbose=0,
        callbacks=[timer],
    )
    model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    print(
        json.dumps(
            {
                "epoch_seconds": timer.seconds,
                "load_seconds": load_seconds,
                "wall_seconds": time.perf_counter() - START,
            }
        )
    )


if __name__ == "__main__":
    main()
