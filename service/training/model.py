"""The seed CNN, exactly as the reference experiment builds it."""

import keras


def build_model(num_classes: int = 10) -> keras.Model:
    """Conv(32) -> pool -> dropout -> Conv(64) -> pool -> dropout -> Dense(256) -> softmax."""
    return keras.Sequential(
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
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )


def make_loss(name: str) -> keras.losses.Loss:
    """``"kl"``: Keras' KL divergence; ``"ce"``: categorical cross-entropy."""
    return {"kl": keras.losses.KLDivergence, "ce": keras.losses.CategoricalCrossentropy}[name]()
