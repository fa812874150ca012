"""Reference profiles and drift through HTTP, as a user calls them: JSON, Arrow and Parquet
tables, stored profiles and reports, the defaults' verdicts, and bad tables."""

import io
import math

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ARROW = "application/vnd.apache.arrow.stream"
PARQUET = "application/vnd.apache.parquet"
N = 20_000
CITIES = ["Paris", "Lyon", "Lille", "Nice", "Brest", "Metz"]
SHARES = [0.35, 0.25, 0.15, 0.12, 0.08, 0.05]


def reference(rng: np.random.Generator, n: int = N) -> dict[str, np.ndarray]:
    return {
        "price": rng.normal(0.0, 1.0, n),
        "city": rng.choice(CITIES, size=n, p=SHARES),
        "rating": rng.integers(1, 6, n),
    }


def arrow_body(columns: dict[str, np.ndarray]) -> bytes:
    table = pa.table(columns)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def parquet_body(columns: dict[str, np.ndarray]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


def create(client: httpx.Client, body: bytes, media: str, query: str = "") -> dict:
    answer = client.post(f"/profiles{query}", content=body, headers={"Content-Type": media})
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def profile(client: httpx.Client) -> dict:
    columns = reference(np.random.default_rng(1))
    return create(client, arrow_body(columns), ARROW, "?name=october")


def drift(client: httpx.Client, profile_id: str, columns: dict, query: str = "") -> dict:
    answer = client.post(
        f"/profiles/{profile_id}/drift{query}",
        content=arrow_body(columns),
        headers={"Content-Type": ARROW},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_json_profile_is_stored_listed_read_and_deleted(client: httpx.Client) -> None:
    body = {
        "columns": {"x": [0.5, 1.5, 2.5, 3.5], "colour": ["red", "blue", "red", "red"]},
        "name": "tiny",
        "bins": 2,
    }
    created = client.post("/profiles", json=body)
    assert created.status_code == 201
    made = created.json()
    assert created.headers["location"] == f"/profiles/{made['id']}"
    assert made["name"] == "tiny" and made["rows"] == 4
    assert made["columns"]["x"]["kind"] == "numeric"
    assert made["columns"]["x"]["edges"] == [0.5, 2.0, 3.5]
    assert made["columns"]["colour"] == {
        "kind": "categorical",
        "rows": 4,
        "categories": ["red", "blue"],
        "counts": [3, 1],
    }
    assert client.get(f"/profiles/{made['id']}").json() == made
    listed = client.get("/profiles", params={"limit": 100}).json()
    assert {"id": made["id"], "kinds": {"x": "numeric", "colour": "categorical"}}.items() <= next(
        p for p in listed["profiles"] if p["id"] == made["id"]
    ).items()
    assert client.delete(f"/profiles/{made['id']}").status_code == 204
    assert client.get(f"/profiles/{made['id']}").status_code == 404
    assert client.delete(f"/profiles/{made['id']}").status_code == 404


def test_json_arrow_and_parquet_bodies_give_the_same_profile(client: httpx.Client) -> None:
    columns = reference(np.random.default_rng(2), 500)
    as_json = client.post(
        "/profiles", json={"columns": {k: v.tolist() for k, v in columns.items()}}
    ).json()
    as_arrow = create(client, arrow_body(columns), ARROW)
    as_parquet = create(client, parquet_body(columns), PARQUET)
    assert as_json["columns"] == as_arrow["columns"] == as_parquet["columns"]
    assert as_json["columns"]["rating"]["kind"] == "categorical"  # 5 distinct integers


def test_kinds_are_overridden_per_column_in_json_and_in_the_query(client: httpx.Client) -> None:
    columns = reference(np.random.default_rng(3), 300)
    by_json = client.post(
        "/profiles",
        json={"columns": {"rating": columns["rating"].tolist()}, "kinds": {"rating": "numeric"}},
    ).json()
    by_query = create(
        client, arrow_body({"rating": columns["rating"]}), ARROW, "?kind.rating=numeric"
    )
    assert (
        by_json["columns"]["rating"]["kind"] == by_query["columns"]["rating"]["kind"] == "numeric"
    )


def test_an_unchanged_table_does_not_drift(client: httpx.Client, profile: dict) -> None:
    found = drift(client, profile["id"], reference(np.random.default_rng(10)))
    assert not any(c["drifted"] for c in found["columns"].values()), found["columns"]
    assert found["dataset"] == {
        "drift": False,
        "drifted_share": 0.0,
        "drift_share": 0.5,
        "drifted_columns": 0,
        "columns": 3,
    }
    assert found["columns"]["price"]["method"] == "wasserstein"
    assert found["columns"]["city"]["method"] == "js_distance"


def test_a_shift_a_wider_scale_and_a_reshuffle_drift(client: httpx.Client, profile: dict) -> None:
    rng = np.random.default_rng(11)
    current = reference(rng)
    current["price"] = rng.normal(0.5, 1.0, N)
    current["city"] = rng.choice(CITIES, size=N, p=SHARES[::-1])
    found = drift(client, profile["id"], current)
    assert found["columns"]["price"]["drifted"] and found["columns"]["city"]["drifted"]
    assert not found["columns"]["rating"]["drifted"]
    assert found["dataset"]["drift"] and found["dataset"]["drifted_columns"] == 2
    wider = reference(rng)
    wider["price"] = rng.normal(0.0, 2.0, N)
    assert drift(client, profile["id"], wider)["columns"]["price"]["drifted"]


def test_unseen_categories_are_listed_and_counted(client: httpx.Client, profile: dict) -> None:
    rng = np.random.default_rng(12)
    current = reference(rng)
    moved = rng.random(N) < 0.1
    current["city"] = np.where(moved, "Dijon", current["city"])
    column = drift(client, profile["id"], current)["columns"]["city"]
    assert column["drifted"]
    assert column["unseen"] == [{"category": "Dijon", "count": int(moved.sum())}]
    assert column["unseen_share"] == pytest.approx(moved.mean())


def test_psi_over_http_equals_the_jeffreys_divergence_of_the_cells(
    client: httpx.Client, profile: dict
) -> None:
    rng = np.random.default_rng(13)
    current = reference(rng)
    current["price"] = rng.normal(0.2, 1.1, N)
    found = drift(client, profile["id"], current, "?method.price=psi&prior.price=laplace")
    column = found["columns"]["price"]
    assert column["method"] == "psi" and column["threshold"] == 0.2
    # The outer cells (below and above the reference's range) count in the outer bins.
    now, then = (column["cells"][side] for side in ("current", "reference"))
    now = [now[0] + now[1], *now[2:-2], now[-2] + now[-1]]
    then = [then[0] + then[1], *then[2:-2], then[-2] + then[-1]]
    check = client.post(
        "/divergences/jeffreys",
        json={"p": [c + 1 for c in now], "q": [r + 1 for r in then], "normalize": True},
    ).json()
    assert math.isclose(column["score"], check["value"], rel_tol=1e-12)


def test_a_drift_report_is_stored_listed_and_drawn(client: httpx.Client, profile: dict) -> None:
    found = drift(client, profile["id"], reference(np.random.default_rng(14)), "?drift_share=0.3")
    assert found["dataset"]["drift_share"] == 0.3
    assert client.get(f"/drift/{found['id']}").json() == found
    listed = client.get(f"/profiles/{profile['id']}/drift", params={"limit": 100}).json()
    assert found["id"] in [r["id"] for r in listed["reports"]]
    page = client.get(found["report"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "october" in page.text and "price" in page.text
    picture = client.get(f"/drift/{found['id']}/picture", params={"column": "city"})
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")
    assert client.get(f"/drift/{found['id']}/picture", params={"column": "nope"}).status_code == 404


def test_deleting_a_profile_deletes_its_reports(client: httpx.Client) -> None:
    made = client.post("/profiles", json={"columns": {"x": [1.0, 2.0, 3.0]}}).json()
    report = client.post(f"/profiles/{made['id']}/drift", json={"columns": {"x": [1.0, 2.0]}})
    assert report.status_code == 201
    assert client.delete(f"/profiles/{made['id']}").status_code == 204
    assert client.get(f"/drift/{report.json()['id']}").status_code == 404


@pytest.mark.parametrize(
    ("columns", "loc", "words"),
    [
        ({"x": [1.0, 2.0], "y": [1.0]}, ["body", "columns", "y"], "length"),
        ({"x": [1.0, "a"]}, ["body", "columns", "x", 1], "string"),
        ({"x": []}, ["body", "columns", "x"], "empty"),
        ({"x": [1.0, None]}, ["body", "columns", "x", 1], "null"),
        ({}, ["body", "columns"], ""),
    ],
)
def test_bad_tables_are_refused_naming_the_column(
    client: httpx.Client, columns: dict, loc: list, words: str
) -> None:
    answer = client.post("/profiles", json={"columns": columns})
    assert answer.status_code == 422
    error = answer.json()["detail"][0]
    assert error["loc"][: len(loc)] == loc
    assert words in error["msg"]


def test_drift_refuses_a_table_without_the_profiles_columns(
    client: httpx.Client, profile: dict
) -> None:
    columns = reference(np.random.default_rng(15), 100)
    del columns["city"]
    answer = client.post(
        f"/profiles/{profile['id']}/drift",
        json={"columns": {k: v.tolist() for k, v in columns.items()}},
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "columns", "city"]


def test_drift_refuses_strings_in_a_numeric_column(client: httpx.Client, profile: dict) -> None:
    columns = {k: v.tolist() for k, v in reference(np.random.default_rng(16), 50).items()}
    columns["price"] = ["cheap"] * 50
    answer = client.post(f"/profiles/{profile['id']}/drift", json={"columns": columns})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][:3] == ["body", "columns", "price"]


@pytest.mark.parametrize(
    ("methods", "loc"),
    [
        ({"nope": {"method": "psi"}}, ["body", "methods", "nope"]),
        ({"price": {"method": "magic"}}, ["body", "methods", "price", "method"]),
        ({"city": {"method": "wasserstein"}}, ["body", "methods", "city", "method"]),
    ],
)
def test_drift_refuses_bad_methods_naming_the_column(
    client: httpx.Client, profile: dict, methods: dict, loc: list
) -> None:
    columns = {k: v.tolist() for k, v in reference(np.random.default_rng(17), 50).items()}
    answer = client.post(
        f"/profiles/{profile['id']}/drift", json={"columns": columns, "methods": methods}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][: len(loc)] == loc


def test_unknown_profiles_and_reports_are_404(client: httpx.Client) -> None:
    table = {"columns": {"x": [1.0]}}
    assert client.get("/profiles/" + "0" * 32).status_code == 404
    assert client.post("/profiles/" + "0" * 32 + "/drift", json=table).status_code == 404
    assert client.get("/profiles/not-an-id").status_code == 404
    assert client.get("/drift/" + "f" * 32).status_code == 404
    assert client.get("/drift/" + "f" * 32 + "/report").status_code == 404


def test_a_body_that_is_not_arrow_or_parquet_is_a_clear_4xx(client: httpx.Client) -> None:
    for media in (ARROW, PARQUET):
        answer = client.post("/profiles", content=b"not a table", headers={"Content-Type": media})
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"][0] == "body"
    answer = client.post("/profiles", content=b"a,b", headers={"Content-Type": "text/csv"})
    assert answer.status_code == 415


def test_bad_query_options_of_a_binary_body_name_the_parameter(client: httpx.Client) -> None:
    body = arrow_body({"x": np.arange(10.0)})
    answer = client.post("/profiles?bins=0", content=body, headers={"Content-Type": ARROW})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "bins"]
    answer = client.post("/profiles?kind.x=ordinal", content=body, headers={"Content-Type": ARROW})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][:3] == ["query", "kinds", "x"]


def test_a_parquet_file_that_decodes_to_far_more_than_the_body_limit_is_413(
    client: httpx.Client,
) -> None:
    # 200,000 copies of one long string, plainly encoded and zstd-compressed: a few
    # kilobytes that decode to 20 MB, over twice the test server's 4 MiB body limit.
    table = pa.table({"note": ["x" * 100] * 200_000})
    sink = io.BytesIO()
    pq.write_table(table, sink, use_dictionary=False, compression="zstd")
    assert len(sink.getvalue()) < 100_000
    answer = client.post("/profiles", content=sink.getvalue(), headers={"Content-Type": PARQUET})
    assert answer.status_code == 413, answer.text
    assert "decodes to" in answer.json()["detail"][0]["msg"]


def test_drift_checks_and_their_columns_are_counted_in_the_metrics(
    client: httpx.Client, profile: dict
) -> None:
    def counted() -> dict[str, float]:
        lines = client.get("/metrics").text.splitlines()
        return {
            line.split()[0]: float(line.split()[-1])
            for line in lines
            if line.startswith(
                ("divergence_drift_checks_total{", "divergence_drift_columns_total{")
            )
        }

    before = counted()
    rng = np.random.default_rng(20)
    current = reference(rng)
    current["price"] = rng.normal(1.0, 1.0, N)
    drift(client, profile["id"], current)
    after = counted()

    def grew(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    assert grew('divergence_drift_checks_total{drift="false"}') == 1  # 1 of 3 columns drifted
    assert grew('divergence_drift_columns_total{drifted="true"}') == 1
    assert grew('divergence_drift_columns_total{drifted="false"}') == 2
