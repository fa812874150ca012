"""Scoring a chunk of streamed rows, whose lengths may differ from row to row."""

from collections import defaultdict
from typing import Any

from service.divergences.catalog import Divergence
from service.divergences.inputs import Limits
from service.divergences.schemas import DivergenceRequest, StreamRow
from service.divergences.scoring import score
from service.errors import InvalidInput


def score_rows(
    divergence: Divergence,
    rows: list[StreamRow],
    options: DivergenceRequest,
    limits: Limits,
    alpha: float | None,
    key: str,
) -> list[dict[str, Any]]:
    """One answer per row, in order; rows of one length are scored together.

    A broken row raises :class:`InvalidInput` whose loc names its index in ``rows``.
    """
    answers: list[dict[str, Any]] = [{} for _ in rows]
    by_length: dict[int, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_length[len(row.p)].append(i)
    for indices in by_length.values():
        qs = [rows[i].q for i in indices]
        missing = next((i for i, q in zip(indices, qs, strict=True) if q is None), None)
        if divergence.needs_q and missing is not None:
            raise InvalidInput(
                ("body", "q", missing), f"q is required for {divergence.name}", "missing"
            )
        try:
            scores = score(
                divergence,
                p=[rows[i].p for i in indices],
                q=qs if divergence.needs_q else None,  # type: ignore[arg-type]
                limits=limits,
                mode=options.mode,
                epsilon=options.epsilon,
                normalize=options.normalize,
                base=options.base,
                alpha=alpha,
                backend="tensorflow",
            )
        except InvalidInput as error:
            field, *rest = error.loc[1:]
            if rest and isinstance(rest[0], int):  # a row of this group: the chunk's index
                rest[0] = indices[rest[0]]
            elif field == "q" and not rest:  # p and q lengths differ in this group
                rest = [indices[0]]
            raise InvalidInput(("body", field, *rest), error.msg, error.type) from None
        for i, value, at in zip(
            indices, scores.values.tolist(), scores.infinite_at.tolist(), strict=True
        ):
            finite = value != float("inf")
            answers[i] = {
                key: value if finite else None,
                "finite": finite,
                "infinite_at": at if at >= 0 else None,
            }
    return answers
