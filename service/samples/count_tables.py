"""Tables of counts: a current table already counted where it lives (a SQL GROUP BY), per
cell of the profile instead of one value per row.

A cell is named by a string. For a numeric column of a profile of k bins: ``"below"``
(values under the reference's min), ``"0"`` to ``"k-1"`` (the bins, by the profile's
edges: bin i holds edges[i] <= x < edges[i+1], the last bin closed) and ``"above"``
(values over its max); for a categorical column, the category itself. Cells left out
count 0. In JSON: ``{"counts": {"price": {"below": 3, "0": 120, ...}, "city": {"Paris":
120, ...}}}``; in Arrow or Parquet (``?counts=true``): a long table of string columns
``column_name`` and ``cell`` and an integer column ``count``, one row per cell (a cell twice
in one column is refused, not summed: a GROUP BY gives each once).

Counts are integers >= 0, at least one of a column's above 0. Errors name the column and
the cell: ``("body", "counts", column, cell)`` in JSON, ``("body", "counts", row)`` in a
long table.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from service.core.errors import InputTooLarge, InvalidInput, Loc

BELOW, ABOVE = "below", "above"
_INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class CellCounts:
    """One column's counts, by cell name (see the module); ``counts`` is int64."""

    name: str
    cells: tuple[str, ...]
    counts: np.ndarray

    @property
    def rows(self) -> int:
        return int(self.counts.sum())

    def as_categories(self) -> tuple[tuple[str, ...], np.ndarray]:
        return self.cells, self.counts

    def numeric_cells(self, bins: int) -> np.ndarray:
        """The counts over [below] + the profile's ``bins`` bins + [above] (k + 2 cells)."""
        names = {BELOW: 0, ABOVE: bins + 1} | {str(i): i + 1 for i in range(bins)}
        cells = np.zeros(bins + 2, dtype=np.int64)
        for cell, count in zip(self.cells, self.counts.tolist(), strict=True):
            if cell not in names:
                raise InvalidInput(
                    ("body", "counts", self.name, cell),
                    f"column {self.name!r} is numeric with {bins} bins: its cells are "
                    f"{BELOW!r}, '0' to '{bins - 1}' and {ABOVE!r}; got {cell!r}",
                )
            cells[names[cell]] = count
        return cells


class CountTable(dict[str, CellCounts]):
    """A table of counts: column name -> its counts (a class of its own, so that a table
    is told from a table of values without reading a column)."""


def _count(value: Any, loc: Loc) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(loc, f"a count is an integer >= 0; got {type(value).__name__}")
    if (isinstance(value, float) and not value.is_integer()) or not 0 <= value <= _INT64_MAX:
        raise InvalidInput(loc, f"a count is an integer >= 0; got {value!r}")
    return int(value)


def _column(name: str, cells: list[str], counts: list[int], loc: Loc) -> CellCounts:
    if not cells or sum(counts) == 0:
        raise InvalidInput(loc, f"column {name!r} counts no rows")
    return CellCounts(name, tuple(cells), np.asarray(counts, dtype=np.int64))


def read_json_counts(counts: dict[str, Any], *, max_cells: int) -> CountTable:
    """``{column: {cell: count}}`` checked; over ``max_cells`` cells in a column: 413."""
    if not counts:
        raise InvalidInput(("body", "counts"), "the table of counts has no columns", "too_short")
    table = CountTable()
    for name, by_cell in counts.items():
        loc = ("body", "counts", name)
        if not isinstance(by_cell, dict):
            raise InvalidInput(loc, f"column {name!r} must be an object of cell: count")
        if len(by_cell) > max_cells:
            raise InputTooLarge(
                loc, f"column {name!r} has {len(by_cell)} cells; the limit is {max_cells}"
            )
        values = [_count(count, (*loc, cell)) for cell, count in by_cell.items()]
        table[name] = _column(name, list(by_cell), values, loc)
    return table


def read_counts_table(table: pa.Table, *, max_cells: int) -> CountTable:
    """A long table (``column_name``, ``cell``, ``count``) checked, by the JSON rules."""
    wanted = {
        "column_name": pa.types.is_string,
        "cell": pa.types.is_string,
        "count": pa.types.is_integer,
    }
    for field, is_type in wanted.items():
        if field not in table.column_names:
            raise InvalidInput(
                ("body", field),
                f"a table of counts has columns column_name, cell and count; {field!r} is missing",
            )
        column = table.column(field)
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if not (is_type(kind) or (field != "count" and pa.types.is_large_string(kind))):
            raise InvalidInput(("body", field), f"column {field!r} is of type {column.type}")
        if column.null_count:
            row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
            raise InvalidInput(("body", field, row), f"{field!r} is null at row {row}")
    names = table.column("column_name").to_pylist()
    cells = table.column("cell").to_pylist()
    counts = table.column("count").to_numpy()
    if table.num_rows > max_cells:
        raise InputTooLarge(("body", "count"), f"{table.num_rows} cells; the limit is {max_cells}")
    if table.num_rows == 0:
        raise InvalidInput(("body",), "the table of counts has no rows", "too_short")
    if (counts < 0).any():
        row = int(np.flatnonzero(counts < 0)[0])
        raise InvalidInput(("body", "count", row), f"a count is >= 0; row {row} has {counts[row]}")
    grouped: dict[str, dict[str, int]] = {}
    for row, (name, cell, count) in enumerate(zip(names, cells, counts.tolist(), strict=True)):
        by_cell = grouped.setdefault(name, {})
        if cell in by_cell:
            raise InvalidInput(
                ("body", "cell", row), f"column {name!r} has cell {cell!r} twice (row {row})"
            )
        by_cell[cell] = count
    return CountTable(
        (name, _column(name, list(by_cell), list(by_cell.values()), ("body", "counts", name)))
        for name, by_cell in grouped.items()
    )
