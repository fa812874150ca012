"""Bad input gets a 4xx naming the field, the row and the reason; never a 500."""

import httpx
import pytest

P = "[0.1, 0.4, 0.5]"
Q = "[0.8, 0.15, 0.05]"

# (endpoint, raw JSON body, status, loc of the first error, words the message holds)
CASES = [
    ("/kl", f'{{"p": [0.1, -0.4, 0.5], "q": {Q}}}', 422, ["body", "p", 1], "non-negative"),
    ("/kl", f'{{"p": [0.1, NaN, 0.5], "q": {Q}}}', 422, ["body", "p", 1], "finite"),
    ("/kl", f'{{"p": {P}, "q": [0.8, Infinity, 0.05]}}', 422, ["body", "q", 1], "finite"),
    ("/kl", f'{{"p": {P}, "q": [0.8, -Infinity, 0.05]}}', 422, ["body", "q", 1], "finite"),
    ("/kl", f'{{"p": [0.1, 0.4, 1e999], "q": {Q}}}', 422, ["body", "p", 2], "finite"),
    ("/kl", f'{{"p": [0.5, 0.5], "q": {Q}}}', 422, ["body", "q"], "same length"),
    ("/kl", f'{{"p": [], "q": {Q}}}', 422, ["body", "p"], "at least 1"),
    ("/kl", '{"p": [0.2, 0.2], "q": [0.5, 0.5]}', 422, ["body", "p"], "sums to 0.4"),
    ("/kl", '{"p": [0, 0], "q": [1, 1], "normalize": true}', 422, ["body", "p"], "all zeros"),
    ("/kl", f'{{"p": [0.1, "0.4", 0.5], "q": {Q}}}', 422, ["body", "p", 1], "valid number"),
    ("/kl", f'{{"p": [0.1, true, 0.5], "q": {Q}}}', 422, ["body", "p", 1], "valid number"),
    ("/kl", f'{{"p": [0.1, [0.4], 0.5], "q": {Q}}}', 422, ["body", "p", 1], "valid number"),
    ("/kl", f'{{"p": {P}}}', 422, ["body", "q"], "required"),
    ("/kl", f'{{"p": {P}, "q": {Q}, "base": 1}}', 422, ["body", "base"], "base"),
    ("/kl", f'{{"p": {P}, "q": {Q}, "base": -2}}', 422, ["body", "base"], "greater than 1"),
    ("/kl", f'{{"p": {P}, "q": {Q}, "base": "ten"}}', 422, ["body", "base"], "greater than 1"),
    ("/kl", f'{{"p": {P}, "q": {Q}, "base": 0.5}}', 422, ["body", "base"], "greater than 1"),
    ("/kl", f'{{"p": {P}, "q": {Q}, "base": 0.999}}', 422, ["body", "base"], "greater than 1"),
    ("/kl/batch", f'{{"p": [{P}], "q": {Q}, "base": 0.5}}', 422, ["body", "base"], "than 1"),
    ("/kl", f'{{"p": {P}, "q": {Q}, "epsilon": 0}}', 422, ["body", "epsilon"], "greater than"),
    ("/kl", f'{{"p": {P}, "q": {Q}, "epsilon": NaN}}', 422, ["body", "epsilon"], "finite"),
    ("/kl/batch", f'{{"p": [{P}], "q": {Q}, "epsilon": NaN}}', 422, ["body", "epsilon"], "finite"),
    ("/kl", f'{{"p": {P}, "q": {Q}, "mode": "fast"}}', 422, ["body", "mode"], "exact"),
    ("/kl", f'{{"p": {P}, "q": {Q}, "normalise": true}}', 422, ["body", "normalise"], "Extra"),
    ("/kl", f'{{"p": {P}, "q": {Q}, "normalize": "yes"}}', 422, ["body", "normalize"], "bool"),
    ("/kl", '{"p": [0.1, 0.4, ', 422, ["body", 16], "JSON decode error"),
    ("/kl", "[1, 2]", 422, ["body"], "object"),
    ("/kl/batch", f'{{"p": [{P}, [0.5, 0.5]], "q": {Q}}}', 422, ["body", "p", 1], "row 1"),
    (
        "/kl/batch",
        f'{{"p": [{P}, [0.5, -0.5, 1]], "q": {Q}}}',
        422,
        ["body", "p", 1, 1],
        "row 1, index 1",
    ),
    ("/kl/batch", f'{{"p": [{P}, [0.5, 0.6, 0]], "q": {Q}}}', 422, ["body", "p", 1], "row 1"),
    ("/kl/batch", f'{{"p": [{P}, {P}], "q": [{Q}, {Q}, {Q}]}}', 422, ["body", "q"], "rows"),
    ("/kl/batch", f'{{"p": [], "q": {Q}}}', 422, ["body", "p"], "at least 1"),
    ("/kl/batch", f'{{"p": [[]], "q": {Q}}}', 422, ["body", "p", 0], "at least 1"),
    ("/divergences/renyi", f'{{"p": {P}, "q": {Q}, "alpha": -1}}', 422, ["body", "alpha"], ""),
    ("/divergences/nope", f'{{"p": {P}, "q": {Q}}}', 422, ["path", "name"], "unknown"),
    ("/divergences/kl", f'{{"p": {P}}}', 422, ["body", "q"], "required"),
    ("/kl/gaussian", '{"mu": [0.5], "logvar": [0.1, 0.2]}', 422, ["body", "logvar"], "length"),
    ("/kl/gaussian", '{"mu": [NaN], "logvar": [0.1]}', 422, ["body", "mu", 0], "finite"),
]


@pytest.mark.parametrize(("path", "raw", "status", "loc", "words"), CASES)
def test_bad_input_is_a_clear_4xx(
    client: httpx.Client, path: str, raw: str, status: int, loc: list[object], words: str
) -> None:
    response = client.post(path, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    first = response.json()["detail"][0]
    assert first["loc"] == loc
    assert words in first["msg"]
    assert "Traceback" not in response.text


def test_wrong_content_type_is_415(client: httpx.Client) -> None:
    response = client.post(
        "/kl", content=f'{{"p": {P}, "q": {Q}}}', headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_missing_content_type_is_415(client: httpx.Client) -> None:
    response = client.post("/kl", content=f'{{"p": {P}, "q": {Q}}}')
    assert response.status_code == 415


def test_body_over_the_limit_is_413_before_it_is_read(client: httpx.Client) -> None:
    # The test server's limit is 4 MiB; the header alone says the body is too large.
    big = b'{"p": [' + b"0.0," * (2 * 1024 * 1024) + b"1.0]}"
    response = client.post("/kl", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


def test_body_over_the_limit_without_length_is_413(client: httpx.Client) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"p": ['
        for _ in range(64):
            yield b"0.0," * 32 * 1024
        yield b"1.0]}"

    response = client.post("/kl", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_vector_longer_than_the_limit_is_413_naming_the_field(client: httpx.Client) -> None:
    n = 100_001  # the test server allows 100,000 elements
    response = client.post("/kl", json={"p": [1.0] * n, "q": [1.0] * n, "normalize": True})
    assert response.status_code == 413
    assert response.json()["detail"][0]["loc"] == ["body", "p"]


def test_batch_with_more_rows_than_the_limit_is_413(client: httpx.Client) -> None:
    response = client.post("/kl/batch", json={"p": [[1.0]] * 50_001, "q": [1.0]})
    assert response.status_code == 413
    assert "rows" in response.json()["detail"][0]["msg"]


def test_a_flood_of_bad_elements_reports_only_the_first_few(client: httpx.Client) -> None:
    response = client.post(
        "/kl",
        content='{"p": [' + ", ".join(['"x"'] * 5000) + '], "q": [1]}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert 0 < len(response.json()["detail"]) <= 20


def test_unknown_path_is_404_json(client: httpx.Client) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
