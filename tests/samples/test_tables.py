"""Tables from JSON, Arrow IPC streams and Parquet: the same Columns from each, and every
broken rule refused with its status, a loc down to the column and row, and a reason."""

import io
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from service.core.errors import InputTooLarge, InvalidInput
from service.samples.tables import (
    Column,
    read_arrow_table,
    read_json_columns,
    read_parquet_table,
)

COLUMNS = ("body", "columns")


def stream(table: pa.Table, options: pa.ipc.IpcWriteOptions | None = None) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def refused(read: Any, body: Any, max_rows: int = 100) -> InvalidInput:
    """What reading ``body`` and taking each of its columns refuses (a Parquet table's
    columns are read as they are taken)."""
    with pytest.raises(InvalidInput) as caught:
        dict(read(body, max_rows=max_rows))
    return caught.value


# (body columns, loc after ("body", "columns"), a fragment of the message)
JSON_CASES: list[tuple[dict[str, Any], tuple[Any, ...], str]] = [
    ({"a": []}, ("a",), "column 'a' is empty"),
    ({"a": [1, 2], "b": []}, ("b",), "column 'b' is empty"),
    ({"a": [1, 2, 3], "b": [1, 2]}, ("b",), "'b' has 2 rows but the first column, 'a', has 3"),
    ({"a": [1, None]}, ("a", 1), "row 1, is null; drop or impute missing values"),
    ({"a": ["x", None]}, ("a", 1), "row 1, is null; drop or impute"),
    ({"a": [1.0, float("nan")]}, ("a", 1), "row 1, is NaN; drop or impute"),
    ({"a": [float("inf"), 1.0]}, ("a", 0), "row 0, is Infinity"),
    ({"a": [1.0, 2.0, -float("inf")]}, ("a", 2), "row 2, is -Infinity"),
    ({"a": [1, float("nan"), "x"]}, ("a", 1), "row 1, is NaN"),
    ({"a": [1, True]}, ("a", 1), "mixes kinds: row 0 is a number but row 1 is a boolean"),
    ({"a": [False, 1]}, ("a", 1), "row 0 is a boolean but row 1 is a number"),
    ({"a": ["x", "y", 3]}, ("a", 2), "row 0 is a string but row 2 is a number"),
    ({"a": ["x", True]}, ("a", 1), "row 0 is a string but row 1 is a boolean"),
    ({"a": [1, [2, 3]]}, ("a", 1), "row 1, is a list; a value is a number, a string or a boolean"),
    ({"a": [{"b": 1}, 2]}, ("a", 0), "row 0, is an object; a value is a number"),
    ({"a": [1.0, 10**400]}, ("a", 1), "row 1, is an integer beyond float64"),
]


@pytest.mark.parametrize(("columns", "where", "message"), JSON_CASES)
def test_a_broken_json_table_is_refused_at_its_column_and_row(
    columns: dict[str, Any], where: tuple[Any, ...], message: str
) -> None:
    error = refused(read_json_columns, columns)
    assert type(error) is InvalidInput and error.status_code == 422
    assert error.loc == (*COLUMNS, *where)
    assert message in error.msg


def test_a_json_table_without_columns_is_refused_at_columns() -> None:
    error = refused(read_json_columns, {})
    assert error.loc == COLUMNS and "no columns" in error.msg and error.type == "too_short"


def test_json_columns_that_are_not_an_object_or_not_lists_are_refused() -> None:
    assert refused(read_json_columns, [[1, 2]]).loc == COLUMNS
    error = refused(read_json_columns, {"a": "1,2"})
    assert error.loc == (*COLUMNS, "a") and "must be a list" in error.msg


def test_more_json_rows_than_the_limit_is_413_naming_the_column() -> None:
    error = refused(read_json_columns, {"a": [1, 2], "b": ["x", "y", "z"]}, max_rows=2)
    assert type(error) is InputTooLarge and error.status_code == 413
    assert error.loc == (*COLUMNS, "b") and "3 rows; the limit is 2" in error.msg


def test_the_caller_chooses_the_loc_of_json_columns() -> None:
    with pytest.raises(InvalidInput) as caught:
        read_json_columns({"a": [1, None]}, max_rows=9, loc=("body", "current"))
    assert caught.value.loc == ("body", "current", "a", 1)


def test_json_columns_keep_their_order_and_kinds() -> None:
    table = read_json_columns(
        {"n": [3, 1.5, 3], "s": ["b", "a", "b"], "t": [True, True, False]}, max_rows=3
    )
    assert list(table) == ["n", "s", "t"]
    np.testing.assert_array_equal(table["n"].numbers, [3.0, 1.5, 3.0])
    assert table["n"].numbers.dtype == np.float64 and table["n"].labels == ()
    assert table["s"].numbers is None and table["s"].labels == ("a", "b")
    np.testing.assert_array_equal(table["s"].counts, [1, 2])
    assert table["s"].counts.dtype == np.int64
    assert [column.rows for column in table.values()] == [3, 3, 3]


def test_booleans_become_the_labels_true_and_false() -> None:
    column = read_json_columns({"t": [True, False, True]}, max_rows=9)["t"]
    assert column.labels == ("false", "true") and column.counts.tolist() == [1, 2]
    assert column.integral is False
    only = read_json_columns({"t": [True, True]}, max_rows=9)["t"]
    assert only.labels == ("true",) and only.counts.tolist() == [2]


def test_labels_are_sorted_and_counted() -> None:
    column = read_json_columns({"c": ["z", "a", "é", "z", "", "z"]}, max_rows=9)["c"]
    assert column.labels == ("", "a", "z", "é")
    assert column.counts.tolist() == [1, 1, 3, 1]
    assert column.rows == 6


def test_integral_means_every_number_is_an_integer() -> None:
    table = read_json_columns(
        {"i": [1, 2, -3], "f": [1.0, 2.0, 3.0], "h": [1, 2, 2.5], "s": ["1", "2", "3"]},
        max_rows=9,
    )
    assert [column.integral for column in table.values()] == [True, True, False, False]


def test_as_categories_writes_integers_without_a_point_and_others_by_repr() -> None:
    numbers = [3, 3.0, -0.0, 0, 2.5, 0.1, 1e16, 1e300, -7]
    labels, counts = read_json_columns({"n": numbers}, max_rows=99)["n"].as_categories()
    assert labels == ("-7", "0", "0.1", "2.5", "3", "1e+16", "1e+300")
    assert counts.tolist() == [1, 2, 1, 1, 2, 1, 1] and counts.dtype == np.int64


def test_as_categories_of_labels_is_the_labels_and_counts() -> None:
    column = read_json_columns({"s": ["b", "a", "b"]}, max_rows=9)["s"]
    labels, counts = column.as_categories()
    assert labels == ("a", "b") and counts.tolist() == [1, 2]


def test_a_columns_arrays_are_read_only() -> None:
    table = read_json_columns({"n": [1.0, 2.0], "s": ["a", "b"]}, max_rows=9)
    with pytest.raises(ValueError, match="read-only"):
        table["n"].numbers[0] = 5.0  # type: ignore[index]
    with pytest.raises(ValueError, match="read-only"):
        table["s"].counts[0] = 5  # type: ignore[index]


def test_columns_are_equal_by_value() -> None:
    one = Column("a", np.array([1.0, 2.0]), (), None, True)
    assert one == Column("a", np.array([1.0, 2.0]), (), None, True)
    assert one != Column("a", np.array([2.0, 1.0]), (), None, True)
    assert one != Column("a", None, ("1", "2"), np.array([1, 1]), False)


ROUND_TRIP: dict[str, list[Any]] = {
    "age": [31, 45, 27, 45, 60],
    "score": [0.5, -1.25, 3.0, 2.0, 0.0],
    "city": ["Oslo", "Lima", "Oslo", "Pune", "Oslo"],
    "member": [True, False, True, True, False],
}


def arrow_round_trip_table() -> pa.Table:
    return pa.table(
        {
            "age": pa.array(ROUND_TRIP["age"], pa.int32()),
            "score": pa.array(ROUND_TRIP["score"], pa.float32()),
            "city": pa.array(ROUND_TRIP["city"]).dictionary_encode(),
            "member": pa.array(ROUND_TRIP["member"]),
        }
    )


def test_json_arrow_and_parquet_give_the_same_columns() -> None:
    from_json = read_json_columns(ROUND_TRIP, max_rows=5)
    from_arrow = read_arrow_table(stream(arrow_round_trip_table()), max_rows=5)
    from_parquet = read_parquet_table(parquet(arrow_round_trip_table()), max_rows=5)
    assert list(from_json) == list(from_arrow) == list(from_parquet) == list(ROUND_TRIP)
    assert from_json == from_arrow == from_parquet
    assert from_arrow["city"].labels == ("Lima", "Oslo", "Pune")
    assert from_arrow["city"].counts.tolist() == [1, 3, 1]
    assert from_arrow["member"].labels == ("false", "true")
    assert from_arrow["age"].integral and not from_arrow["score"].integral


def test_a_parquet_file_of_several_row_groups_gives_the_same_columns() -> None:
    body = io.BytesIO()
    pq.write_table(arrow_round_trip_table(), body, row_group_size=2)
    assert pq.ParquetFile(io.BytesIO(body.getvalue())).num_row_groups == 3
    table = read_parquet_table(body.getvalue(), max_rows=5)
    assert table == read_json_columns(ROUND_TRIP, max_rows=5)


def test_every_arrow_string_type_reads_as_labels() -> None:
    words = ["b", "a", "b", "c"]
    kinds = [pa.string(), pa.large_string(), pa.string_view()]
    table = pa.table({f"s{i}": pa.array(words, kind) for i, kind in enumerate(kinds)})
    table = table.append_column("d", pa.array(words, pa.large_string()).dictionary_encode())
    for column in read_arrow_table(stream(table), max_rows=9).values():
        assert column.labels == ("a", "b", "c") and column.counts.tolist() == [1, 2, 1]


def test_a_dictionary_that_repeats_or_leaves_unused_values_counts_rows() -> None:
    indices = pa.array([0, 2, 2, 0], pa.int8())
    first = pa.DictionaryArray.from_arrays(indices, pa.array(["x", "unused", "x"]))
    second = pa.DictionaryArray.from_arrays(pa.array([1, 0], pa.int8()), pa.array(["y", "x"]))
    batches = [pa.record_batch([part], names=["d"]) for part in (first, second)]
    column = read_arrow_table(stream(pa.Table.from_batches(batches)), max_rows=9)["d"]
    assert column.labels == ("x", "y") and column.counts.tolist() == [5, 1]


def test_every_arrow_number_type_reads_as_float64() -> None:
    kinds = [pa.int8(), pa.uint16(), pa.int32(), pa.uint64(), pa.float16(), pa.float64()]
    values = [0, 1, 2, 100]
    table = pa.table({str(kind): pa.array(values, kind) for kind in kinds})
    for column in read_arrow_table(stream(table), max_rows=9).values():
        assert column.numbers.dtype == np.float64 and column.numbers.tolist() == values
        assert column.integral


def test_float64_numbers_are_read_in_place_from_the_body() -> None:
    body = stream(pa.table({"x": pa.array([0.5, 1.5, 2.5])}))
    numbers = read_arrow_table(body, max_rows=9)["x"].numbers
    assert np.shares_memory(numbers, np.frombuffer(body, np.uint8))


def test_rows_are_counted_across_record_batches() -> None:
    batches = [pa.record_batch([pa.array(part)], names=["x"]) for part in ([1.0, 2.0], [3.0, None])]
    error = refused(read_arrow_table, stream(pa.Table.from_batches(batches)))
    assert error.loc == ("body", "x", 3) and "row 3, is null" in error.msg


# (an Arrow table, loc, a fragment of the message); Parquet refuses the same tables.
ARROW_CASES: list[tuple[pa.Table, tuple[Any, ...], str]] = [
    (pa.table({"a": pa.array([1, None, 3])}), ("body", "a", 1), "row 1, is null; drop or impute"),
    (pa.table({"a": pa.array([1.0, np.nan])}), ("body", "a", 1), "row 1, is NaN"),
    (pa.table({"a": pa.array([-np.inf, 1.0])}), ("body", "a", 0), "row 0, is -Infinity"),
    (pa.table({"s": pa.array(["x", None])}), ("body", "s", 1), "row 1, is null"),
    (pa.table({"b": pa.array([True, None])}), ("body", "b", 1), "row 1, is null"),
    (pa.table({"n": pa.nulls(2)}), ("body", "n", 0), "row 0, is null"),
    (
        pa.table({"ok": [1, 2], "m": pa.array([Decimal("1.5"), Decimal("2")])}),
        ("body", "m"),
        "column 'm' is of type decimal128(2, 1)",
    ),
    (pa.table({"t": pa.array([1, 2], pa.timestamp("s"))}), ("body", "t"), "of type timestamp"),
    (pa.table({"l": pa.array([[1], [2]])}), ("body", "l"), "of type list<"),
    (pa.table({"a": pa.array([], pa.float64())}), ("body", "a"), "column 'a' is empty"),
]


@pytest.mark.parametrize("write", [stream, parquet], ids=["arrow", "parquet"])
@pytest.mark.parametrize(("table", "where", "message"), ARROW_CASES)
def test_a_broken_arrow_or_parquet_table_is_refused_at_its_column_and_row(
    write: Any, table: pa.Table, where: tuple[Any, ...], message: str
) -> None:
    read = read_arrow_table if write is stream else read_parquet_table
    error = refused(read, write(table))
    assert type(error) is InvalidInput and error.loc == where
    assert message in error.msg


def test_an_arrow_dictionary_whose_values_hold_a_null_is_refused_at_the_row() -> None:
    codes = pa.DictionaryArray.from_arrays(pa.array([0, 0, 1], pa.int32()), pa.array(["x", None]))
    error = refused(read_arrow_table, stream(pa.table({"s": codes})))
    assert error.loc == ("body", "s", 2) and "row 2, is null" in error.msg


def test_an_arrow_dictionary_of_numbers_is_refused_naming_its_type() -> None:
    error = refused(read_arrow_table, stream(pa.table({"d": pa.array([1, 2]).dictionary_encode()})))
    assert error.loc == ("body", "d") and "of type dictionary<values=int64" in error.msg


def test_decimals_are_refused_with_a_hint_to_cast_them() -> None:
    table = pa.table({"m": pa.array([Decimal("1.5")])})
    assert "cast decimals to float64" in refused(read_arrow_table, stream(table)).msg


@pytest.mark.parametrize(
    ("read", "write"), [(read_arrow_table, stream), (read_parquet_table, parquet)]
)
def test_more_arrow_or_parquet_rows_than_the_limit_is_413_at_the_first_column(
    read: Any, write: Any
) -> None:
    error = refused(read, write(pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})), max_rows=2)
    assert type(error) is InputTooLarge and error.status_code == 413
    assert error.loc == ("body", "a") and "3 rows; the limit is 2" in error.msg


def test_an_arrow_table_without_columns_is_refused_at_body() -> None:
    error = refused(read_arrow_table, stream(pa.table({})))
    assert error.loc == ("body",) and "no columns" in error.msg


def test_two_arrow_columns_of_one_name_are_refused() -> None:
    table = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["a", "a"])
    error = refused(read_arrow_table, stream(table))
    assert error.loc == ("body", "a") and "two columns named 'a'" in error.msg


@pytest.mark.parametrize(
    "body",
    [b"", b"not arrow at all", parquet(pa.table({"a": [1]})), b"\xff\xff\xff\xff" + b"\x10" * 8],
    ids=["empty", "text", "parquet", "garbage"],
)
def test_a_body_that_is_not_an_arrow_stream_is_refused_at_body(body: bytes) -> None:
    error = refused(read_arrow_table, body)
    assert error.loc == ("body",) and "not an Arrow IPC stream" in error.msg


def test_an_arrow_file_rather_than_a_stream_is_refused_at_body() -> None:
    table = pa.table({"a": [1.0]})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    assert refused(read_arrow_table, sink.getvalue().to_pybytes()).loc == ("body",)


def test_a_compressed_arrow_stream_is_refused_at_body() -> None:
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    error = refused(read_arrow_table, stream(pa.table({"a": [1.0, 2.0]}), options))
    assert error.loc == ("body",) and "compressed" in error.msg


@pytest.mark.parametrize("body", [b"", b"PAR1 but not", stream(pa.table({"a": [1]}))])
def test_a_body_that_is_not_parquet_is_refused_at_body(body: bytes) -> None:
    error = refused(read_parquet_table, body)
    assert error.loc == ("body",) and "not a Parquet file" in error.msg


def test_two_hundred_thousand_rows_from_arrow_are_read_right() -> None:
    rng = np.random.default_rng(7)
    n = 200_000
    floats = rng.normal(size=n)
    ints = rng.integers(-50, 50, size=n)
    words = rng.choice(np.array(["red", "green", "blue"]), size=n)
    flags = rng.random(n) < 0.25
    table = pa.table(
        {
            "floats": floats,
            "ints": ints,
            "words": pa.array(words),
            "codes": pa.array(words).dictionary_encode(),
            "flags": flags,
        }
    )
    read = read_arrow_table(stream(table), max_rows=n)
    np.testing.assert_array_equal(read["floats"].numbers, floats)
    np.testing.assert_array_equal(read["ints"].numbers, ints.astype(np.float64))
    assert read["ints"].integral and not read["floats"].integral
    labels, counts = np.unique(words, return_counts=True)
    for name in ("words", "codes"):
        assert read[name].labels == tuple(labels.tolist())
        np.testing.assert_array_equal(read[name].counts, counts)
    assert read["flags"].counts.tolist() == [n - flags.sum(), flags.sum()]
    assert all(column.rows == n for column in read.values())
