"""Drift from counts computed where the data lives: the query docs/drift.md prints, run on
SQLite and PostgreSQL, gives counts whose drift is the drift of the values."""

import io
import math
import sqlite3
import textwrap
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT
from tests.samples.test_profiles_http import ARROW, PARQUET, arrow_body

ROWS = 3_000


def documented_counts_query() -> Callable[[dict, str], str]:
    """``counts_query`` exactly as docs/drift.md prints it."""
    lines = (ROOT / "docs" / "drift.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("    def counts_query(profile: dict, table: str) -> str:")
    block = []
    for line in lines[start:]:
        if line and not line.startswith("    "):
            break
        block.append(line)
    namespace: dict[str, Any] = {}
    exec(textwrap.dedent("\n".join(block)), namespace)
    return namespace["counts_query"]  # type: ignore[no-any-return]


def tables(seed: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    reference = {
        "price": rng.normal(10.0, 2.0, ROWS),
        "age": rng.integers(18, 90, ROWS).astype(np.float64),
        "city": rng.choice(["Paris", "Lyon", "Nice"], ROWS, p=[0.5, 0.3, 0.2]),
    }
    current = {
        "price": rng.normal(10.6, 2.4, ROWS),
        "age": rng.integers(18, 95, ROWS).astype(np.float64),
        "city": rng.choice(["Paris", "Lyon", "Nice", "Brest"], ROWS, p=[0.4, 0.3, 0.2, 0.1]),
    }
    return reference, current


@pytest.fixture(scope="module")
def profiled(client: httpx.Client) -> tuple[dict, dict[str, np.ndarray]]:
    reference, current = tables(1)
    answer = client.post(
        "/profiles", content=arrow_body(reference), headers={"Content-Type": ARROW}
    )
    assert answer.status_code == 201
    return answer.json(), current


def sqlite_rows(query: str, current: dict[str, np.ndarray]) -> list[tuple[str, str, int]]:
    with sqlite3.connect(":memory:") as db:
        db.execute("CREATE TABLE events (price REAL, age REAL, city TEXT)")
        db.executemany(
            "INSERT INTO events VALUES (?, ?, ?)",
            zip(*(current[c].tolist() for c in ("price", "age", "city")), strict=True),
        )
        return db.execute(query).fetchall()


def postgres_rows(url: str, query: str, current: dict[str, np.ndarray]) -> list[tuple]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as db:
        db.execute("CREATE TABLE events (price double precision, age double precision, city text)")
        with db.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO events VALUES (%s, %s, %s)",
                list(zip(*(current[c].tolist() for c in ("price", "age", "city")), strict=True)),
            )
        return db.execute(query).fetchall()


def as_json(rows: list[tuple]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for name, cell, count in rows:
        counts.setdefault(name, {})[cell] = int(count)
    return counts


def by_values(client: httpx.Client, profile: dict, current: dict[str, np.ndarray]) -> dict:
    methods = {name: {"method": "js_distance"} for name in current}
    answer = client.post(
        f"/profiles/{profile['id']}/drift",
        json={"columns": {k: v.tolist() for k, v in current.items()}, "methods": methods},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def assert_same_drift(found: dict, expected: dict) -> None:
    for name, column in expected["columns"].items():
        got = found["columns"][name]
        assert got["cells"] == column["cells"], name
        assert math.isclose(got["score"], column["score"], rel_tol=1e-12), name
        assert got["drifted"] == column["drifted"] and got["unseen"] == column["unseen"]
    assert found["dataset"] == expected["dataset"]


def test_the_documented_query_on_sqlite_gives_the_drift_of_the_values(
    client: httpx.Client, profiled: tuple[dict, dict[str, np.ndarray]]
) -> None:
    profile, current = profiled
    rows = sqlite_rows(documented_counts_query()(profile, "events"), current)
    answer = client.post(f"/profiles/{profile['id']}/drift", json={"counts": as_json(rows)})
    assert answer.status_code == 201, answer.text
    found = answer.json()
    assert {c["method"] for c in found["columns"].values()} == {"js_distance"}
    assert found["columns"]["city"]["unseen"] == [
        {"category": "Brest", "count": int((current["city"] == "Brest").sum())}
    ]
    assert_same_drift(found, by_values(client, profile, current))


def test_the_documented_query_on_postgresql_sent_as_parquet_gives_the_same(
    client: httpx.Client, profiled: tuple[dict, dict[str, np.ndarray]], database_url: str
) -> None:
    profile, current = profiled
    rows = postgres_rows(database_url, documented_counts_query()(profile, "events"), current)
    names, cells, counts = zip(*rows, strict=True)
    sink = io.BytesIO()
    pq.write_table(
        pa.table({"column_name": names, "cell": cells, "count": pa.array(counts, pa.int64())}),
        sink,
    )
    answer = client.post(
        f"/profiles/{profile['id']}/drift?counts=true",
        content=sink.getvalue(),
        headers={"Content-Type": PARQUET},
    )
    assert answer.status_code == 201, answer.text
    assert_same_drift(answer.json(), by_values(client, profile, current))


def test_counts_refuse_wasserstein_which_needs_the_values(
    client: httpx.Client, profiled: tuple[dict, dict[str, np.ndarray]]
) -> None:
    profile, _ = profiled
    answer = client.post(
        f"/profiles/{profile['id']}/drift",
        json={
            "counts": {"price": {"0": 5}, "age": {"0": 5}, "city": {"Paris": 5}},
            "methods": {"price": {"method": "wasserstein"}},
        },
    )
    assert answer.status_code == 422
    error = answer.json()["detail"][0]
    assert error["loc"] == ["body", "methods", "price", "method"]
    assert "counts" in error["msg"]


@pytest.mark.parametrize(
    ("counts", "loc", "words"),
    [
        ({"price": {"twenty": 5}}, ["body", "counts", "price", "twenty"], "cells are"),
        ({"price": {"0": -1}}, ["body", "counts", "price", "0"], ">= 0"),
        ({"price": {"0": 1.5}}, ["body", "counts", "price", "0"], "integer"),
        ({"price": {"0": 0}}, ["body", "counts", "price"], "no rows"),
        ({"age": {"0": 5}, "city": {"Paris": 5}}, ["body", "counts", "price"], "does not"),
    ],
)
def test_bad_counts_are_refused_naming_column_and_cell(
    client: httpx.Client,
    profiled: tuple[dict, dict[str, np.ndarray]],
    counts: dict,
    loc: list,
    words: str,
) -> None:
    profile, _ = profiled
    full = {"price": {"0": 5}, "age": {"0": 5}, "city": {"Paris": 5}} | counts
    if "price" not in counts:
        del full["price"]
    answer = client.post(f"/profiles/{profile['id']}/drift", json={"counts": full})
    assert answer.status_code == 422, answer.text
    error = answer.json()["detail"][0]
    assert error["loc"] == loc and words in error["msg"]


def test_a_table_as_both_values_and_counts_or_neither_is_refused(
    client: httpx.Client, profiled: tuple[dict, dict[str, np.ndarray]]
) -> None:
    profile, _ = profiled
    url = f"/profiles/{profile['id']}/drift"
    both = {"columns": {"price": [1.0]}, "counts": {"price": {"0": 1}}}
    for body in (both, {}):
        answer = client.post(url, json=body)
        assert answer.status_code == 422 and "columns" in answer.text


def test_a_cell_twice_in_a_long_table_is_refused(
    client: httpx.Client, profiled: tuple[dict, dict[str, np.ndarray]]
) -> None:
    profile, _ = profiled
    table = pa.table(
        {
            "column_name": ["price", "price", "age", "city"],
            "cell": ["0", "0", "1", "Paris"],
            "count": pa.array([3, 4, 5, 6], pa.int64()),
        }
    )
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    answer = client.post(
        f"/profiles/{profile['id']}/drift?counts=true",
        content=sink.getvalue(),
        headers={"Content-Type": ARROW},
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "cell", 1]
