"""Closed-form KL divergence between diagonal Gaussians (the VAE case), in numpy.

``kl_diagonal_gaussians(mu1, logvar1, mu2, logvar2)`` is
``KL(N(mu1, diag e^logvar1) || N(mu2, diag e^logvar2))`` in nats along the last axis:
``sum (e^d - 1 - d + (mu1 - mu2)^2 e^-logvar2) / 2`` with ``d = logvar1 - logvar2``.
Against the standard normal (``mu2 = logvar2 = 0``) it is the VAE's
``-sum (1 + logvar - mu^2 - e^logvar) / 2``. It is ``inf`` only when ``e^d`` or the mean
term overflows float64.
"""

import numpy as np

from service.divergences.formulas import Array


def kl_diagonal_gaussians(mu1: Array, logvar1: Array, mu2: Array, logvar2: Array) -> Array:
    """KL between diagonal Gaussians given by means and log-variances; see the module."""
    d = logvar1 - logvar2
    with np.errstate(over="ignore"):
        # expm1(d) - d keeps its accuracy near d = 0, where 1 + d - e^d would cancel.
        terms = np.expm1(d) - d + (mu1 - mu2) ** 2 * np.exp(-logvar2)
    return 0.5 * np.sum(terms, axis=-1)
