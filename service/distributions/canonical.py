"""Checked parameters to the arrays the formulas use, one function per kind of family.

Each takes the parameters given (already checked one by one against their constraints),
the distribution's batch shape and the side's ``loc``, checks what involves several
parameters (low < high, matching dimensions, positive definiteness) and returns the
canonical parameters broadcast to the batch shape (views: nothing is copied).
"""

import math
from collections.abc import Callable

import numpy as np
from scipy import special

from service.core.errors import InputTooLarge, InvalidInput, Loc
from service.distributions import gaussians
from service.distributions.tensors import Array, Shape, first, where

Params = dict[str, Array]
# The most numbers in a batch of n x n matrices (256 MB of float64): what a Gaussian pair
# computes on (dense factors, triangular solves) is of this size.
MAX_MATRIX_ELEMENTS = 1 << 25
Canonical = Callable[[Params, Shape, Loc], Params]


def _spread(array: Array, batch: Shape, rank: int) -> Array:
    return np.broadcast_to(array, batch + array.shape[array.ndim - rank :])


def scalars(given: Params, batch: Shape, loc: Loc) -> Params:
    """Parameters of one number per batch element, as given."""
    return {name: _spread(value, batch, 0) for name, value in given.items()}


def interval(given: Params, batch: Shape, loc: Loc) -> Params:
    """``low`` and ``high`` of a uniform distribution, low < high."""
    low, high = np.broadcast_arrays(given["low"], given["high"])
    empty = low >= high
    if empty.any():
        index = first(empty) if empty.ndim else ()
        raise InvalidInput(
            (*loc, "high"),
            f"high must be greater than low; got low {low[index]:g}, high {high[index]:g}"
            f"{where(index)}",
        )
    return scalars(given, batch, loc)


def binary(given: Params, batch: Shape, loc: Loc) -> Params:
    """The success probability from ``probs`` or ``logits``, with its logs and its
    complement's, exact in the tails (from logits: log_expit, never log(1 - expit))."""
    if "logits" in given:
        logits = given["logits"]
        probs, failure = special.expit(logits), special.expit(-logits)
        log_p, log_failure = special.log_expit(logits), special.log_expit(-logits)
    else:
        probs = given["probs"]
        failure = 1 - probs
        with np.errstate(divide="ignore"):  # log 0 = -inf: an impossible outcome
            log_p, log_failure = np.log(probs), np.log1p(-probs)
    canonical = {"probs": probs, "failure": failure, "log_p": log_p, "log_failure": log_failure}
    if "total_count" in given:
        canonical["total_count"] = given["total_count"]
    return scalars(canonical, batch, loc)


def categories(given: Params, batch: Shape, loc: Loc) -> Params:
    """Probabilities and log probabilities of each category (the last axis)."""
    if "logits" in given:
        log_probs = given["logits"] - special.logsumexp(given["logits"], axis=-1, keepdims=True)
        probs = np.exp(log_probs)
    else:
        probs = given["probs"]
        with np.errstate(divide="ignore"):
            log_probs = np.log(probs)
    return {"probs": _spread(probs, batch, 1), "log_probs": _spread(log_probs, batch, 1)}


def concentration(given: Params, batch: Shape, loc: Loc) -> Params:
    """A Dirichlet's concentration vector."""
    return {"concentration": _spread(given["concentration"], batch, 1)}


def _event_size(given: Params, loc: Loc) -> int:
    """The dimension n of a multivariate family (loc's length), checked against the
    other parameters' own dimensions."""
    n = given["loc"].shape[-1]
    for name in ("covariance_matrix", "precision_matrix", "scale_tril"):
        if name in given and given[name].shape[-2:] != (n, n):
            rows, columns = given[name].shape[-2:]
            raise InvalidInput(
                (*loc, name),
                f"{name} is {rows} x {columns} but loc has {n} elements; it must be {n} x {n}",
                "shape",
            )
    for name, axis in (("cov_factor", -2), ("cov_diag", -1)):
        if name in given and given[name].shape[axis] != n:
            what = "rows" if axis == -2 else "elements"
            raise InvalidInput(
                (*loc, name),
                f"{name} has {given[name].shape[axis]} {what} but loc has {n} elements",
                "shape",
            )
    return n


def _cholesky(matrix: Array, loc: Loc, name: str) -> Array:
    """The lower Cholesky factor of each matrix; raises naming the first that is not
    positive definite."""
    if not np.isfinite(matrix).all():  # W W^T of a low-rank factor may overflow
        raise InvalidInput((*loc, name), f"the covariance from {name} overflows float64")
    try:
        factor: Array = np.linalg.cholesky(matrix).astype(np.float64, copy=False)
    except np.linalg.LinAlgError:
        try:
            smallest = np.linalg.eigvalsh(matrix)[..., 0]
        except np.linalg.LinAlgError:  # eigenvalues that do not converge: name the matrix
            smallest = np.full(matrix.shape[:-2], -np.inf)
        index = first(smallest == smallest.min()) if smallest.ndim else ()
        raise InvalidInput(
            (*loc, name, *index),
            f"{name} must be symmetric positive definite; it is not{where(index)} "
            f"(smallest eigenvalue {float(smallest[index]):.3g})",
        ) from None
    return factor


def gaussian(given: Params, batch: Shape, loc: Loc) -> Params:
    """The mean and the lower Cholesky factor of the covariance, from any of torch's
    parameterisations (covariance, precision, scale_tril; or cov_factor and cov_diag,
    whose covariance W W^T + diag(D) is factored densely)."""
    n = _event_size(given, loc)
    elements = math.prod(batch) * n * n
    if elements > MAX_MATRIX_ELEMENTS:
        raise InputTooLarge(
            loc,
            f"{math.prod(batch)} Gaussians of dimension {n} need {elements:,} numbers of "
            f"covariance factors; the limit is {MAX_MATRIX_ELEMENTS:,}",
        )
    if "scale_tril" in given:
        tril = given["scale_tril"]
    elif "covariance_matrix" in given:
        tril = _cholesky(given["covariance_matrix"], loc, "covariance_matrix")
    elif "precision_matrix" in given:
        _cholesky(given["precision_matrix"], loc, "precision_matrix")  # checks, names it
        tril = gaussians.tril_from_precision(given["precision_matrix"])
    else:
        factor, diagonal = given["cov_factor"], given["cov_diag"]
        covariance = np.matmul(factor, np.swapaxes(factor, -1, -2))
        covariance = covariance + diagonal[..., np.newaxis] * np.eye(n)
        tril = _cholesky(covariance, loc, "cov_factor")
    return {"loc": _spread(given["loc"], batch, 1), "scale_tril": _spread(tril, batch, 2)}
