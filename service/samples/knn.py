"""The k-nearest-neighbour estimator of KL(P||Q) from samples (Wang, Kulkarni & Verdu,
"Divergence estimation for multidimensional densities via k-nearest-neighbor
distances", IEEE Trans. Inf. Theory 55(5), 2009):

    D = (d / n) sum_i log(nu_k(i) / rho_k(i)) + log(m / (n - 1))

for x of n rows and y of m rows in R^d, rho_k(i) the Euclidean distance from x_i to its
k-th nearest neighbour among the other rows of x, nu_k(i) to its k-th nearest in y.

Ties: a distance of 0 (a row repeated in x, or present in y) would make a term infinite.
Coincident rows are skipped instead: rho_k(i) and nu_k(i) are the distances to the k-th
nearest row *at a positive distance*. The value is therefore always finite; where a
sample has too few rows apart from x_i's copies, the estimate is refused (422).
"""

import math

import numpy as np
from scipy.spatial import cKDTree

from service.core.errors import InvalidInput

DEFAULT_K = 5


def _kth_positive(tree: cKDTree, points: np.ndarray, k: int, field: str) -> np.ndarray:
    """Distance from each point to its k-th nearest row of ``tree`` at a positive distance."""
    # Rows at distance 0 are the point's copies (and the point itself): skip them all.
    ks = k + np.asarray(tree.query_ball_point(points, r=0.0, return_length=True))
    if ks.max() > tree.n:
        row = int(np.argmax(ks > tree.n))
        raise InvalidInput(
            ("body", field),
            f"{field} has fewer than k = {k} rows apart from the copies of x[{row}]; "
            "the kNN estimate needs k distinct neighbours",
        )
    found = np.empty(points.shape[0])
    for kk in np.unique(ks):  # one query in the common case: no ties at all
        where = ks == kk
        found[where] = tree.query(points[where], k=[int(kk)])[0][:, 0]
    return found


def knn_kl(x: np.ndarray, y: np.ndarray, k: int = DEFAULT_K) -> float:
    """The estimate of KL(P||Q) in nats from rows ``x`` ~ P (n, d) and ``y`` ~ Q (m, d).

    Needs n >= k + 1 and m >= k (422 otherwise, naming the sample). Finite whatever the
    ties (see the module's policy); may be negative, as any unbiased-in-the-limit
    estimate of a small divergence.
    """
    n, d = x.shape
    m = y.shape[0]
    if n < k + 1:
        raise InvalidInput(("body", "x"), f"x has {n} rows; the kNN estimate needs k + 1 = {k + 1}")
    if m < k:
        raise InvalidInput(("body", "y"), f"y has {m} rows; the kNN estimate needs k = {k}")
    # The estimate does not change when both samples are scaled alike; scaled by a power
    # of two (exactly) into [-1, 1], squared distances cannot overflow (nor cKDTree fail).
    exponent = np.frexp(max(np.abs(x).max(), np.abs(y).max()))[1]
    x, y = np.ldexp(x, -exponent), np.ldexp(y, -exponent)
    rho = _kth_positive(cKDTree(x), x, k, "x")
    nu = _kth_positive(cKDTree(y), x, k, "y")
    return float(d * np.mean(np.log(nu) - np.log(rho)) + math.log(m / (n - 1)))
