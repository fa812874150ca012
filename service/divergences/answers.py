"""The answers of the divergence routes, shaped from :class:`~.scoring.Scores`: JSON
values (``null`` where infinite, with the index to blame), per-element terms, batch
summaries, Arrow tables."""

import math
from typing import Any

import numpy as np
from fastapi import Response

from service.divergences import schemas
from service.divergences.codecs.arrow import ARROW_STREAM, write_arrow
from service.divergences.scoring import Scores
from service.divergences.terms import ranked


def arrow(column: str, scores: Scores, terms: bool = False, top: int | None = None) -> Response:
    """The values of a batch as an Arrow IPC stream: ``column``, finite, infinite_at, and
    the terms and top asked for (``inf`` where infinite, as the values)."""
    shown = scores.terms if terms else None
    best = ranked(scores.terms, top) if scores.terms is not None and top is not None else None
    table = write_arrow(column, scores.values, scores.infinite_at, shown, best)
    return Response(table, media_type=ARROW_STREAM)


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


def _nulled(values: np.ndarray) -> list[Any]:
    """``values`` (a vector or rows) as JSON lists, null where infinite."""
    if np.isfinite(values).all():
        listed: list[Any] = values.tolist()
        return listed
    if values.ndim > 1:
        return [_nulled(row) for row in values]
    return [v if math.isfinite(v) else None for v in values.tolist()]


def _top(index: np.ndarray, value: np.ndarray) -> list[Any]:
    if index.ndim > 1:
        return [_top(i, v) for i, v in zip(index, value, strict=True)]
    return [{"index": i, "term": v} for i, v in zip(index.tolist(), _nulled(value), strict=True)]


def terms(element_terms: np.ndarray | None, wanted: bool, top: int | None) -> dict[str, Any]:
    """The answer's ``terms`` (where ``wanted``) and ``top`` (the ``top`` largest terms) of
    ``element_terms`` (a vector, or rows for a batch); no field that was not asked for."""
    if element_terms is None:
        return {}
    fields = {"terms": _nulled(element_terms)} if wanted else {}
    if top is not None:
        fields["top"] = _top(*ranked(element_terms, top))
    return fields


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
