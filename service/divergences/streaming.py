"""Parsing and scoring the rows of an NDJSON stream, whose lengths may differ."""

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.core.errors import InputTooLarge, InvalidInput
from service.divergences import answers
from service.divergences.catalog import Divergence
from service.divergences.inputs import PROBABILITIES, Format, Limits, to_array
from service.divergences.schemas import DivergenceOptions, StreamRow
from service.divergences.scoring import score


@dataclass(frozen=True, slots=True)
class ArrayRow:
    """One parsed line: p and q as float64 arrays (q None where the line has none)."""

    p: np.ndarray
    q: np.ndarray | None

    @property
    def nbytes(self) -> int:
        return self.p.nbytes + (0 if self.q is None else self.q.nbytes)


# Where a vector of a row starts: the key, then its list ("p": [).
_VECTOR_START = re.compile(rb'"([pq])"\s*:\s*\[')


def parse_row(
    line: bytes,
    max_vector_length: int,
    formats: tuple[Format, Format] = (PROBABILITIES, PROBABILITIES),
) -> ArrayRow:
    """One NDJSON line as a row of float64 arrays (8 bytes an element), ``null`` read as
    ``-inf`` in a vector in a log format (``formats``: p's and q's) and refused in one of
    probabilities (:class:`InvalidInput`, loc ``("body", field, index)``).

    A vector over ``max_vector_length`` raises :class:`InputTooLarge` (loc ``("body",
    field)``); a line with more commas than two such vectors can hold is refused before
    it is parsed at all, so a hostile line costs no more than its bytes. A line that is
    not a row raises pydantic's ValidationError.
    """
    _check_lengths_unparsed(line, max_vector_length)
    row = StreamRow.model_validate_json(line)
    for field, values in (("p", row.p), ("q", row.q or ())):
        if len(values) > max_vector_length:
            raise _too_long(field, len(values), max_vector_length)
    limits = Limits(max_vector_length, 1, 0.0)  # lengths checked above
    p = to_array(row.p, "p", limits, formats[0])
    return ArrayRow(p, None if row.q is None else to_array(row.q, "q", limits, formats[1]))


def _check_lengths_unparsed(line: bytes, max_vector_length: int) -> None:
    """Refuse, from its bytes, a line whose p or q has more elements than the limit.

    The commas of a line bound its numbers from above, so lines with no more commas than
    the limit (nearly all) cost one count. Otherwise each vector's commas are counted up
    to its closing bracket; a line beyond that with still more commas than p and q at the
    limit can hold is not a valid row either way, and is refused as a whole.
    """
    commas = line.count(b",")
    if commas < max_vector_length:
        return
    for match in _VECTOR_START.finditer(line):
        end = line.find(b"]", match.end())
        elements = line.count(b",", match.end(), end if end >= 0 else len(line)) + 1
        if elements > max_vector_length:
            raise _too_long(match[1].decode(), elements, max_vector_length)
    if commas > 2 * max_vector_length:
        raise InputTooLarge(
            ("body",),
            f"the line has {commas} commas, more than p and q of {max_vector_length} "
            "elements each can hold",
        )


def _too_long(field: str, elements: int, limit: int) -> InputTooLarge:
    return InputTooLarge(("body", field), f"{field} has {elements} elements; the limit is {limit}")


def score_rows(
    divergence: Divergence,
    rows: list[ArrayRow],
    options: DivergenceOptions,
    limits: Limits,
    alpha: float | None,
    key: str,
    terms: bool = False,
) -> list[dict[str, Any]]:
    """One answer per row, in order; rows of one length are scored together; with
    ``terms`` (checked by the caller), the row's terms and top asked for by ``options``.

    A broken row raises :class:`InvalidInput` whose loc names its index in ``rows``.
    """
    found: list[dict[str, Any]] = [{} for _ in rows]
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
                p=np.stack([rows[i].p for i in indices]),
                q=np.stack(qs) if divergence.needs_q else None,  # type: ignore[arg-type]
                limits=limits,
                mode=options.mode,
                epsilon=options.epsilon,
                normalize=options.normalize,
                base=options.base,
                alpha=alpha,
                backend="tensorflow",
                p_format=options.p_format,
                q_format=options.q_format,
                temperature=options.temperature,
                terms=terms,
            )
        except InvalidInput as error:
            field, *rest = error.loc[1:]
            if rest and isinstance(rest[0], int):  # a row of this group: the chunk's index
                rest[0] = indices[rest[0]]
            elif field == "q" and not rest:  # p and q lengths differ in this group
                rest = [indices[0]]
            raise InvalidInput(("body", field, *rest), error.msg, error.type) from None
        for j, (i, value, at) in enumerate(
            zip(indices, scores.values.tolist(), scores.infinite_at.tolist(), strict=True)
        ):
            finite = value != float("inf")
            found[i] = {
                key: value if finite else None,
                "finite": finite,
                "infinite_at": at if at >= 0 else None,
            }
            if scores.terms is not None:
                found[i] |= answers.terms(scores.terms[j], options.terms, options.top)
    return found
