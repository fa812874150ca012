"""Closed-form KL divergence between diagonal Gaussians (the VAE case), in numpy.

``kl_diagonal_gaussians(mu1, logvar1, mu2, logvar2)`` is
``KL(N(mu1, diag e^logvar1) || N(mu2, diag e^logvar2))`` in nats along the last axis:
``sum (e^d - 1 - d + (mu1 - mu2)^2 e^-logvar2) / 2`` with ``d = logvar1 - logvar2``.
Against the standard normal (``mu2 = logvar2 = 0``) it is the VAE's
``-sum (1 + logvar - mu^2 - e^logvar) / 2``. It is ``inf`` only when ``e^d`` or the mean
term overflows float64.
"""

from types import ModuleType

import numpy as np

from service.divergences.formulas import Array


def kl_diagonal_gaussians(
    mu1: Array, logvar1: Array, mu2: Array, logvar2: Array, ops: ModuleType = np
) -> Array:
    """KL between diagonal Gaussians given by means and log-variances; see the module.

    ``ops`` is the array module that computes it: numpy (the default; an overflow
    gives ``inf`` without a warning) or ``keras.ops`` (tensors, differentiable), so a VAE's
    loss and ``POST /kl/gaussian`` share this one formula.
    """
    if ops is np:
        with np.errstate(over="ignore"):
            return _kl(mu1, logvar1, mu2, logvar2, np)
    return _kl(mu1, logvar1, mu2, logvar2, ops)


def kl_to_standard_normal(mu: Array, logvar: Array, ops: ModuleType = np) -> Array:
    """``KL(N(mu, diag e^logvar) || N(0, I))`` along the last axis: the VAE's KL term."""
    return kl_diagonal_gaussians(mu, logvar, ops.zeros_like(mu), ops.zeros_like(logvar), ops)


def _kl(mu1: Array, logvar1: Array, mu2: Array, logvar2: Array, ops: ModuleType) -> Array:
    d = logvar1 - logvar2
    # expm1(d) - d keeps its accuracy near d = 0, where 1 + d - e^d would cancel.
    terms = ops.expm1(d) - d + (mu1 - mu2) ** 2 * ops.exp(-logvar2)
    return 0.5 * ops.sum(terms, axis=-1)
