"""What the ``vae-cifar10`` experiment reports per epoch, and its summary over runs.

No TensorFlow here: the experiments' registry and the job's progress read these.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np

LOSSES = ("reconstruction_loss", "kl_loss", "loss")
HISTORY_KEYS = (*LOSSES, *(f"val_{name}" for name in LOSSES), "active_units", "beta")


def summarize_vae(runs: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Mean test negative ELBO (nats per image) and bits per dimension over the finished
    ``runs``, with the ELBO's sample standard deviation (null for one run); None for none."""
    if not runs:
        return None
    elbo = np.array([r["test"]["negative_elbo"] for r in runs], dtype=np.float64)
    bits = np.array([r["test"]["bits_per_dim"] for r in runs], dtype=np.float64)
    return {
        "negative_elbo_mean": float(elbo.mean()),
        "negative_elbo_std": float(elbo.std(ddof=1)) if len(elbo) > 1 else None,
        "bits_per_dim_mean": float(bits.mean()),
        "runs": len(runs),
    }
