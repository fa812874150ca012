"""Tables in request bodies: JSON columns, an Arrow IPC stream or a Parquet file.

A JSON body carries its options beside ``columns``; an Arrow or Parquet body carries them
as query parameters, per column with the column's name after a dot:
``?name=october&bins=30&kind.age=categorical`` for a profile,
``?drift_share=0.3&method.income=psi&threshold.income=0.25&prior.city=laplace`` for drift,
and ``?counts=true`` for a table of counts (:mod:`.count_tables`) in place of the values.
"""

from typing import Any

from pydantic import BaseModel

from service.samples import arrow_tables
from service.samples.count_tables import CountTable, read_counts_table, read_json_counts
from service.samples.tables import (
    Table,
    read_arrow_table,
    read_json_columns,
    read_parquet_table,
)
from service.web.arrow_ipc import ARROW_STREAM
from service.web.json_body import Body, BodyReader, ModelBodyRoute, options_from_query

PARQUET = "application/vnd.apache.parquet"
TABLE_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "content": {
            ARROW_STREAM: {"schema": {"type": "string", "format": "binary"}},
            PARQUET: {"schema": {"type": "string", "format": "binary"}},
        }
    }
}
# Query parameters named <prefix>.<column>, gathered into {field: {column: value}} (kinds)
# or {field: {column: {key: value}}} (methods).
_PER_COLUMN = {
    "kind": ("kinds", None),
    "method": ("methods", "method"),
    "threshold": ("methods", "threshold"),
    "prior": ("methods", "prior"),
}
# A Parquet body may decode to twice the body limit: about what an Arrow body of the
# same table may be (Arrow IPC is the decoded layout, and compressed streams are refused).
DECODED_PER_BODY_BYTE = 2
_MEDIA = (ARROW_STREAM, PARQUET)


def split_query(query: dict[str, str]) -> tuple[dict[str, str], dict[str, Any]]:
    """The query's plain options, and its ``<prefix>.<column>`` ones gathered by field."""
    plain: dict[str, str] = {}
    per_column: dict[str, Any] = {}
    for name, value in query.items():
        prefix, dot, column = name.partition(".")
        if not dot or prefix not in _PER_COLUMN:
            plain[name] = value
            continue
        field, key = _PER_COLUMN[prefix]
        by_column = per_column.setdefault(field, {})
        if key is None:
            by_column[column] = value
        else:
            by_column.setdefault(column, {})[key] = _number_or_text(value)
    return plain, per_column


def _number_or_text(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def _binary(media: str) -> BodyReader:
    def reader(model: type[BaseModel], body: Body, query: dict[str, str]) -> BaseModel:
        plain, per_column = split_query(query)
        # The body takes the place of columns, or of counts with ?counts=true.
        table = {"counts": {"-": {"-": 1}}} if plain.pop("counts", "") == "true" else {}
        options = options_from_query(model, plain, **per_column, **(table or _COLUMNS))
        options._body, options._media = body, media  # type: ignore[attr-defined]
        return options

    return reader


_COLUMNS = {"columns": {"-": [0]}}


def table_of(request: Any, *, max_rows: int, max_bytes: int) -> Table:
    """The request's table, from its Arrow or Parquet body (which ``max_bytes``, the body
    limit, bounds once decoded too) or its JSON columns."""
    if request._body is None:
        return read_json_columns(request.columns, max_rows=max_rows)
    if request._media == PARQUET:
        decoded = DECODED_PER_BODY_BYTE * max_bytes
        return read_parquet_table(request._body, max_rows=max_rows, max_decoded=decoded)
    return read_arrow_table(request._body, max_rows=max_rows)


def current_table_of(request: Any, *, max_rows: int, max_bytes: int) -> Table | CountTable:
    """The table of a drift request: its values (:func:`table_of`), or its counts per cell
    (:mod:`.count_tables`, at most ``max_rows`` cells)."""
    if request.counts is None:
        return table_of(request, max_rows=max_rows, max_bytes=max_bytes)
    if request._body is None:
        return read_json_counts(request.counts, max_cells=max_rows)
    if request._media == PARQUET:
        decoded = DECODED_PER_BODY_BYTE * max_bytes
        table = arrow_tables.read_parquet(request._body, max_rows=max_rows, max_decoded=decoded)
    else:
        table = arrow_tables.read_stream(request._body)
    return read_counts_table(table, max_cells=max_rows)


class TableBodyRoute(ModelBodyRoute):
    """A route whose body is a table in JSON, Arrow or Parquet (see the module)."""

    def readers(self) -> dict[str, BodyReader]:
        return {media: _binary(media) for media in _MEDIA}
