"""The convolutional VAE of the ``vae-cifar10`` experiment and its loss.

Encoder: Conv(32, 4x4, stride 2) -> Conv(64, 4x4, stride 2) -> Dense(256) -> the mean and
the log-variance of a diagonal Gaussian q(z|x) over ``latent_dim`` dimensions. Decoder:
Dense(256) -> Dense(8x8x64) -> ConvTranspose(32) -> ConvTranspose(3): one logit per pixel
and channel.

Likelihood: each of the 32x32x3 pixel values x in [0, 1] is a Bernoulli with that logit
(not the continuous Bernoulli, whose normaliser is left out), so the reconstruction
negative log-likelihood of an image is the sum of its 3072 binary cross-entropies with
logits, in nats per image. Its minimum for a grey value x is the entropy of x, not 0.
The loss of an image is that plus ``beta_t`` times ``KL(q(z|x) || N(0, I))``, the KL
computed by :func:`service.divergences.gaussian.kl_to_standard_normal` (the formula of
``POST /kl/gaussian``); a step minimises its mean over the batch. Training, validation and
test all draw one z per image (the single-sample estimate of the ELBO).
"""

from typing import Any

import keras
import tensorflow as tf
from keras import layers, ops

from service.divergences.gaussian import kl_to_standard_normal
from service.training.vae_summary import LOSSES

IMAGE_SHAPE = (32, 32, 3)


def build_encoder(latent_dim: int) -> keras.Model:
    """Images -> ``[mean, log_variance]`` of q(z|x), each (n, latent_dim)."""
    images = keras.Input(IMAGE_SHAPE)
    h = layers.Conv2D(32, 4, strides=2, padding="same", activation="relu")(images)
    h = layers.Conv2D(64, 4, strides=2, padding="same", activation="relu")(h)
    h = layers.Dense(256, activation="relu")(layers.Flatten()(h))
    mean = layers.Dense(latent_dim, name="mean")(h)
    log_variance = layers.Dense(latent_dim, name="log_variance")(h)
    return keras.Model(images, [mean, log_variance], name="encoder")


def build_decoder(latent_dim: int) -> keras.Model:
    """z (n, latent_dim) -> Bernoulli logits (n, 32, 32, 3)."""
    z = keras.Input((latent_dim,))
    h = layers.Dense(256, activation="relu")(z)
    h = layers.Reshape((8, 8, 64))(layers.Dense(8 * 8 * 64, activation="relu")(h))
    h = layers.Conv2DTranspose(32, 4, strides=2, padding="same", activation="relu")(h)
    logits = layers.Conv2DTranspose(3, 4, strides=2, padding="same")(h)
    return keras.Model(z, logits, name="decoder")


def reconstruction_nll(images: Any, logits: Any) -> Any:
    """Per image: the sum over its pixels of the binary cross-entropy with logits (nats)."""
    return ops.sum(ops.binary_crossentropy(images, logits, from_logits=True), axis=(1, 2, 3))


class VariationalAutoencoder(keras.Model):
    """The VAE with its own train and test steps; ``beta`` (a variable) weighs the KL.

    ``call`` gives the reconstruction logits at the posterior mean (no sampling).
    """

    def __init__(self, latent_dim: int, seed: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.encoder = build_encoder(latent_dim)
        self.decoder = build_decoder(latent_dim)
        self.beta = keras.Variable(0.0, trainable=False, name="beta")
        self._noise = keras.random.SeedGenerator(seed)
        self._means = {name: keras.metrics.Mean(name=name) for name in LOSSES}

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return list(self._means.values())

    def call(self, images: Any, training: bool = False) -> Any:
        mean, _ = self.encoder(images, training=training)
        return self.decoder(mean, training=training)

    def per_image_losses(self, images: Any, training: bool = False) -> tuple[Any, Any]:
        """``(reconstruction NLL, KL)`` per image, with z drawn once by reparameterisation."""
        mean, log_variance = self.encoder(images, training=training)
        noise = keras.random.normal(ops.shape(mean), seed=self._noise)
        z = mean + ops.exp(0.5 * log_variance) * noise
        logits = self.decoder(z, training=training)
        kl = kl_to_standard_normal(mean, log_variance, ops=ops)
        return reconstruction_nll(images, logits), kl

    def train_step(self, data: Any) -> dict[str, Any]:
        with tf.GradientTape() as tape:
            reconstruction, kl = self.per_image_losses(_images(data), training=True)
            loss = reconstruction + self.beta * kl
            objective = ops.mean(loss)
        gradients = tape.gradient(objective, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        return self._track(reconstruction, kl, loss)

    def test_step(self, data: Any) -> dict[str, Any]:
        reconstruction, kl = self.per_image_losses(_images(data))
        return self._track(reconstruction, kl, reconstruction + self.beta * kl)

    def _track(self, reconstruction: Any, kl: Any, loss: Any) -> dict[str, Any]:
        # Per-image values, so each epoch's figures are exact means over its images.
        for name, values in zip(LOSSES, (reconstruction, kl, loss), strict=True):
            self._means[name].update_state(values)
        return {name: mean.result() for name, mean in self._means.items()}


def _images(data: Any) -> Any:
    """The images of a batch, which Keras passes alone or as ``(x,)`` / ``(x, y)``."""
    return data[0] if isinstance(data, tuple | list) else data
