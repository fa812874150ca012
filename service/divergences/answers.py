"""The answers of the divergence routes, shaped from :class:`~.scoring.Scores`: JSON
values (``null`` where infinite, with the index to blame), batch summaries, Arrow tables."""

import math

import numpy as np
from fastapi import Response

from service.divergences import schemas
from service.divergences.codecs.arrow import ARROW_STREAM, write_arrow
from service.divergences.scoring import Scores


def arrow(column: str, scores: Scores) -> Response:
    """The values of a batch as an Arrow IPC stream: ``column``, finite, infinite_at."""
    return Response(write_arrow(column, scores.values, scores.infinite_at), media_type=ARROW_STREAM)


def _or_none(value: float) -> float | None:
    return value if np.isfinite(value) else None


def one(scores: Scores) -> tuple[float | None, bool, int | None]:
    """(value or null, finite, first index to blame or null) for a single pair."""
    value = float(scores.values)
    at = int(scores.infinite_at)
    finite = math.isfinite(value)
    return value if finite else None, finite, at if at >= 0 else None


def rows(scores: Scores) -> tuple[list[float | None], list[bool], list[int | None]]:
    """The same, row by row, for a batch."""
    finite = np.isfinite(scores.values)
    values: list[float | None] = scores.values.tolist()
    indices: list[int | None] = [None] * len(values)
    if not finite.all():
        values = [v if ok else None for v, ok in zip(values, finite.tolist(), strict=True)]
        indices = [i if i >= 0 else None for i in scores.infinite_at.tolist()]
    return values, finite.tolist(), indices


def summary(scores: Scores) -> schemas.BatchSummary:
    """Rows, infinite rows, and the mean, min and max of a batch (null where infinite)."""
    values = scores.values
    infinite_rows = int(values.size - np.isfinite(values).sum())
    return schemas.BatchSummary(
        rows=int(values.size),
        infinite_rows=infinite_rows,
        mean=None if infinite_rows else float(values.mean()),
        min=_or_none(float(values.min())),
        max=None if infinite_rows else float(values.max()),
    )
