"""Multivariate Gaussians through their Cholesky factors: factors from each torch
parameterisation, the KL divergence, the log density and draws, vectorised over stacks.

No inverse or determinant is ever formed: solves are triangular, log-determinants are
sums of the logs of the factor's diagonal.
"""

import math

import numpy as np
import scipy.linalg

from service.distributions.tensors import Array


def solve_lower(tril: Array, b: Array) -> Array:
    """``tril^-1 b`` for lower-triangular ``tril`` (..., n, n) and ``b`` (..., n, k), the
    stacks broadcast.

    A single matrix goes to LAPACK's triangular solve. Stacks are solved by forward
    substitution, one row at a time across the whole stack: scipy's solve_triangular loops
    over a stack in Python (seconds for 100,000 small matrices), and numpy's batched
    solve ignores the triangle (an LU of each matrix, twice as slow here).
    """
    if tril.ndim == 2 and b.ndim == 2:
        solved: Array = scipy.linalg.solve_triangular(tril, b, lower=True, check_finite=False)
        return solved
    shape = np.broadcast_shapes(tril.shape[:-2], b.shape[:-2]) + b.shape[-2:]
    x = np.empty(shape)
    for i in range(tril.shape[-1]):
        known = np.einsum("...j,...jk->...k", tril[..., i, :i], x[..., :i, :])
        x[..., i, :] = (b[..., i, :] - known) / tril[..., i, i, np.newaxis]
    return x


def half_log_det(tril: Array) -> Array:
    """``log det(L L^T) / 2``: the sum of the logs of ``tril``'s diagonal."""
    return np.log(np.diagonal(tril, axis1=-2, axis2=-1)).sum(axis=-1)


def tril_from_precision(precision: Array) -> Array:
    """The lower Cholesky factor of ``precision^-1``, without forming the inverse.

    With J the exchange matrix, ``J P J = F F^T`` gives ``P = U U^T`` for the upper
    triangular ``U = J F J``, so ``P^-1 = U^-T U^-1`` and ``L = U^-T`` is lower
    triangular: one Cholesky and one triangular solve (as torch does).
    """
    flipped = np.linalg.cholesky(precision[..., ::-1, ::-1])
    u_transposed = np.swapaxes(flipped[..., ::-1, ::-1], -1, -2)
    identity = np.broadcast_to(np.eye(precision.shape[-1]), precision.shape)
    return solve_lower(u_transposed, identity)


def kl(loc_p: Array, tril_p: Array, loc_q: Array, tril_q: Array) -> Array:
    """KL(N(loc_p, L_p L_p^T) || N(loc_q, L_q L_q^T)) in nats, over the leading axes:
    ``log|L_q| - log|L_p| + (||L_q^-1 L_p||_F^2 + ||L_q^-1 (loc_q - loc_p)||^2 - n) / 2``.
    """
    n = loc_p.shape[-1]
    whitened = solve_lower(tril_q, tril_p)
    offset = solve_lower(tril_q, (loc_q - loc_p)[..., np.newaxis])
    trace = np.square(whitened).sum(axis=(-2, -1))
    mahalanobis = np.square(offset).sum(axis=(-2, -1))
    value: Array = half_log_det(tril_q) - half_log_det(tril_p) + 0.5 * (trace + mahalanobis - n)
    return value


def log_density(loc: Array, tril: Array, x: Array) -> Array:
    """The log density of N(loc, L L^T) at draws ``x`` (samples, *batch, n)."""
    n = loc.shape[-1]
    # Draws as the right-hand sides of one solve per batch element.
    centred = np.moveaxis(x - loc, 0, -1)
    whitened = solve_lower(tril, centred)
    squares = np.moveaxis(np.square(whitened).sum(axis=-2), -1, 0)
    result: Array = -0.5 * squares - half_log_det(tril) - 0.5 * n * math.log(2 * math.pi)
    return result


def sample(loc: Array, tril: Array, rng: np.random.Generator, samples: int) -> Array:
    """``samples`` draws of N(loc, L L^T): ``loc + L z`` with z standard normal."""
    z = rng.standard_normal((samples, *loc.shape))
    draws: Array = loc + np.einsum("...ij,...j->...i", tril, z)
    return draws
