"""Hellinger, Bhattacharyya and 2-Wasserstein between Gaussians in closed form, through
Cholesky factors, vectorised over the batch. A normal is a Gaussian of dimension 1.

With ``S = (S_p + S_q) / 2 = L L^T`` and ``d = loc_q - loc_p``:

- Bhattacharyya ``D_B = ||L^-1 d||^2 / 8 + log|L| - (log|L_p| + log|L_q|) / 2`` (nats;
  0 for equal Gaussians, never infinite);
- Hellinger ``H = sqrt(1 - e^-D_B)``, in [0, 1];
- 2-Wasserstein ``W_2^2 = ||d||^2 + ||L_p||_F^2 + ||L_q||_F^2 - 2 ||L_p^T L_q||_*``: the
  trace of ``(S_q^1/2 S_p S_q^1/2)^1/2`` is the sum of the singular values of
  ``L_p^T L_q`` (no matrix square root), in the units of x.
"""

import math
from dataclasses import dataclass

import numpy as np

from service.core.errors import InputTooLarge, InvalidInput
from service.distributions.canonical import MAX_MATRIX_ELEMENTS
from service.distributions.distribution import Distribution, Side
from service.distributions.gaussians import half_log_det, solve_lower
from service.distributions.tensors import Array

GAUSSIANS = ("normal", "multivariate_normal", "low_rank_multivariate_normal")


@dataclass(frozen=True)
class Distances:
    """The three values over the pair's batch shape (Bhattacharyya in nats)."""

    hellinger: Array
    bhattacharyya: Array
    wasserstein2: Array


def factors(side: Side, name: str) -> tuple[Array, Array]:
    """The mean (..., n) and covariance factor (..., n, n) of a Gaussian side; 422 for any
    other family."""
    if not (isinstance(side, Distribution) and side.name in GAUSSIANS):
        raise InvalidInput(
            ("body", name, "family"),
            f"these distances are closed forms between Gaussians: {name} must be one of "
            f"{', '.join(GAUSSIANS)}; got {side.name}",
            "enum",
        )
    if side.name == "normal":
        return side.params["loc"][..., None], side.params["scale"][..., None, None]
    return side.params["loc"], side.params["scale_tril"]


def distances(p: Side, q: Side) -> Distances:
    """The three distances between Gaussians p and q, batches broadcast."""
    loc_p, tril_p = factors(p, "p")
    loc_q, tril_q = factors(q, "q")
    if loc_p.shape[-1] != loc_q.shape[-1]:
        raise InvalidInput(
            ("body", "q"),
            f"q has dimension {loc_q.shape[-1]} but p has {loc_p.shape[-1]}",
            "shape",
        )
    try:
        batch = np.broadcast_shapes(loc_p.shape[:-1], loc_q.shape[:-1])
    except ValueError:
        raise InvalidInput(
            ("body", "q"), "q's batch shape does not broadcast with p's", "shape"
        ) from None
    n = loc_p.shape[-1]
    if math.prod(batch) * n * n > MAX_MATRIX_ELEMENTS:
        raise InputTooLarge(
            ("body",),
            f"p and q broadcast to {math.prod(batch)} pairs of dimension {n}; at most "
            f"{MAX_MATRIX_ELEMENTS:,} numbers of matrices are computed on",
        )
    covariance_p = np.matmul(tril_p, np.swapaxes(tril_p, -1, -2))
    covariance_q = np.matmul(tril_q, np.swapaxes(tril_q, -1, -2))
    try:
        mean_tril = np.linalg.cholesky((covariance_p + covariance_q) / 2)
    except np.linalg.LinAlgError:  # only where float64 cannot hold the covariances
        raise InvalidInput(
            ("body",), "the mean of the two covariances is not positive definite in float64"
        ) from None
    d = np.broadcast_to(loc_q - loc_p, (*batch, n))
    offset = solve_lower(mean_tril, d[..., None])
    bhattacharyya = (
        np.square(offset).sum(axis=(-2, -1)) / 8
        + half_log_det(mean_tril)
        - (half_log_det(tril_p) + half_log_det(tril_q)) / 2
    )
    bhattacharyya = np.maximum(bhattacharyya, 0.0)  # >= 0; rounding may dip below
    hellinger = np.sqrt(-np.expm1(-bhattacharyya))
    nuclear = np.linalg.svd(np.swapaxes(tril_p, -1, -2) @ tril_q, compute_uv=False).sum(axis=-1)
    squared = (
        np.square(d).sum(axis=-1)
        + np.square(tril_p).sum(axis=(-2, -1))
        + np.square(tril_q).sum(axis=(-2, -1))
        - 2 * nuclear
    )
    wasserstein2 = np.sqrt(np.maximum(squared, 0.0))
    if not (np.isfinite(bhattacharyya).all() and np.isfinite(wasserstein2).all()):
        raise InvalidInput(("body",), "the distances overflow float64 for these parameters")
    return Distances(
        np.broadcast_to(hellinger, batch),
        np.broadcast_to(bhattacharyya, batch),
        np.broadcast_to(wasserstein2, batch),
    )
