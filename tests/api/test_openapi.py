"""The committed OpenAPI document: up to date, readable, with examples and error responses."""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.cli import openapi_document
from tests.conftest import ROOT

COMMITTED = ROOT / "openapi" / "openapi.json"
STALE = "openapi/openapi.json is stale: run `divergence-service export-openapi` and commit it"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def committed() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(COMMITTED.read_text(encoding="utf-8"))
    return document


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) for every operation of the committed document."""
    return [
        (method, path, operation)
        for path, item in committed()["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` ("#/components/schemas/Name") to the schema it names."""
    document = committed()
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


NDJSON = "application/x-ndjson"


def body_schema(operation: dict[str, Any]) -> dict[str, Any]:
    return resolve(operation["requestBody"]["content"]["application/json"]["schema"])


def is_stream(operation: dict[str, Any]) -> bool:
    """NDJSON streams take lines, not one JSON body; their example is the text itself."""
    return NDJSON in operation.get("requestBody", {}).get("content", {})


def test_committed_document_is_what_the_server_serves(client: httpx.Client) -> None:
    served = client.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == committed(), STALE


def test_committed_document_is_what_the_cli_exports() -> None:
    assert openapi_document() == COMMITTED.read_text(encoding="utf-8"), STALE


def test_export_command_writes_the_committed_document(tmp_path: Path) -> None:
    output = tmp_path / "nested" / "openapi.json"
    subprocess.run(
        [sys.executable, "-m", "service", "export-openapi", "--output", str(output)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert output.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8"), STALE


def test_export_does_not_import_tensorflow(tmp_path: Path) -> None:
    output = tmp_path / "openapi.json"
    script = (
        "import sys, service.cli\n"
        f"service.cli.main(['export-openapi', '--output', {str(output)!r}])\n"
        "print('tensorflow' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert output.exists()
    assert run.stdout.splitlines()[-1] == "False", "exporting the document imported TensorFlow"


def test_operation_ids_are_unique_readable_snake_case_names() -> None:
    ids = [operation.get("operationId", "") for _, _, operation in operations()]
    for (method, path, _), operation_id in zip(operations(), ids, strict=True):
        assert SNAKE_CASE.fullmatch(operation_id), f"{method.upper()} {path}: {operation_id!r}"
        # FastAPI's default ids end with the method ("kl_kl_post"); ours are plain names.
        assert not operation_id.endswith(f"_{method}"), f"{method.upper()} {path}: {operation_id}"
    assert len(set(ids)) == len(ids), f"duplicate operationIds: {sorted(ids)}"


def test_every_operation_has_a_summary_and_a_description() -> None:
    for method, path, operation in operations():
        assert operation.get("summary", "").strip(), f"{method.upper()} {path} has no summary"
        assert operation.get("description", "").strip(), f"{method.upper()} {path}: no description"


def test_every_request_body_has_an_example() -> None:
    bodies = [(m, p, o) for m, p, o in operations() if "requestBody" in o]
    assert bodies
    for method, path, operation in bodies:
        if is_stream(operation):
            assert operation["requestBody"]["content"][NDJSON]["example"], path
            continue
        examples = body_schema(operation).get("examples")
        assert examples, f"{method.upper()} {path}: the body model has no examples"
        assert all(isinstance(e, dict) and e for e in examples), f"{method.upper()} {path}"


def test_request_body_examples_are_accepted_by_the_server(client: httpx.Client) -> None:
    # Jobs are left out: their example would queue a training run on the shared server.
    # A drift example needs a profile to compare with: the profile example's.
    example = committed()["components"]["schemas"]["ProfileRequest"]["examples"][0]
    profile = client.post("/profiles", json=example).json()
    tried = 0
    for method, path, operation in operations():
        if "requestBody" not in operation or "jobs" in operation.get("tags", []):
            continue
        url = path.replace("{profile_id}", profile["id"])
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"] != "profile_id":
                url = url.replace(
                    f"{{{parameter['name']}}}", str(parameter["schema"]["examples"][0])
                )
        success = next(code for code in operation["responses"] if code.startswith("2"))
        if is_stream(operation):
            text = operation["requestBody"]["content"][NDJSON]["example"]
            response = client.request(method, url, content=text, headers={"content-type": NDJSON})
            assert response.status_code == 200 and "error" not in response.text, (url, text)
            tried += 1
            continue
        for example in body_schema(operation)["examples"]:
            response = client.request(method, url, json=example)
            assert str(response.status_code) == success, (method, url, example, response.text)
            tried += 1
    assert tried >= 6


V2 = "/v2/"  # the Open Inference Protocol answers errors in its own shape: {"error": "..."}


@pytest.mark.parametrize("status", ["413", "415", "422"])
def test_every_post_documents_the_error_answers(status: str) -> None:
    posts = [
        (path, o)
        for method, path, o in operations()
        if method == "post" and not path.startswith(V2)
    ]
    assert posts
    for path, operation in posts:
        if status == "413" and is_stream(operation):
            continue  # streams are read a chunk at a time: no body is too large for them
        response = operation["responses"].get(status)
        assert response, f"POST {path} does not document {status}"
        schema = resolve(response["content"]["application/json"]["schema"])
        assert "detail" in schema["properties"], f"POST {path} {status}: not the error shape"


def test_v2_inference_documents_the_v2_error_shape() -> None:
    posts = [(p, o) for method, p, o in operations() if method == "post" and p.startswith(V2)]
    assert len(posts) == 2
    for path, operation in posts:
        for status in ("400", "404", "413"):
            response = operation["responses"][status]
            schema = resolve(response["content"]["application/json"]["schema"])
            assert list(schema["properties"]) == ["error"], f"POST {path} {status}"
