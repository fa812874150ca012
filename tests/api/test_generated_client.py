"""A client generated from the committed OpenAPI document talks to the real server."""

import importlib
import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from tests.conftest import ROOT, Server

pytest.importorskip(
    "openapi_python_client",
    reason="openapi-python-client (a test dependency) is not installed: pip install -e .[test]",
)

PACKAGE = "divergence_service_client"
P = [0.1, 0.4, 0.5]
Q = [0.8, 0.15, 0.05]


def generator() -> list[str]:
    """The generator of this interpreter's environment (the script beside sys.executable)."""
    script = Path(sys.executable).parent / "openapi-python-client"
    return [str(script)] if script.exists() else [sys.executable, "-m", "openapi_python_client"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package, generated once for this module and importable while it runs."""
    root = tmp_path_factory.mktemp("generated")
    output = root / PACKAGE
    run = subprocess.run(
        [
            *generator(),
            "generate",
            "--path",
            str(ROOT / "openapi" / "openapi.json"),
            "--output-path",
            str(output),
            "--meta",
            "none",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert (output / "__init__.py").exists(), f"no package at {output}: {run.stdout}"
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


@pytest.fixture(scope="module")
def api(generated: ModuleType, server: Server) -> Iterator[object]:
    with generated.Client(base_url=server.url, timeout=60, raise_on_unexpected_status=True) as c:
        yield c


def test_kl_through_the_client(api: object) -> None:
    models = module("models")
    answer = module("api.divergences.kl").sync(client=api, body=models.KLRequest(p=P, q=Q))
    assert isinstance(answer, models.KLResponse)
    expected = float(np.sum(np.array(P) * np.log(np.array(P) / np.array(Q))))
    assert math.isclose(answer.kl, expected, rel_tol=1e-12)
    assert (answer.finite, answer.infinite_at, answer.unit) == (True, None, "nat")


def test_infinite_kl_through_the_client(api: object) -> None:
    models = module("models")
    body = models.KLRequest(p=[0.2, 0.3, 0.5], q=[0.5, 0.5, 0.0])
    answer = module("api.divergences.kl").sync(client=api, body=body)
    assert isinstance(answer, models.KLResponse)
    assert (answer.kl, answer.finite, answer.infinite_at) == (None, False, 2)


def test_kl_batch_through_the_client(api: object) -> None:
    models = module("models")
    body = models.KLBatchRequest(p=[P, Q], q=Q, base=2)
    answer = module("api.divergences.kl_batch").sync(client=api, body=body)
    assert isinstance(answer, models.KLBatchResponse)
    p, q = np.array([P, Q]), np.array(Q)
    expected = np.sum(p * np.log2(p / q), axis=1)
    np.testing.assert_allclose(answer.kl, expected, rtol=1e-12, atol=1e-15)
    assert answer.finite == [True, True]
    assert answer.unit == "bit"
    assert answer.summary.rows == 2


def test_a_family_member_through_the_client(api: object) -> None:
    models = module("models")
    body = models.DivergenceRequest(p=P, q=Q)
    answer = module("api.divergences.divergence").sync("js", client=api, body=body)
    assert isinstance(answer, models.DivergenceResponse)
    p, q = np.array(P), np.array(Q)
    m = (p + q) / 2
    expected = 0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.sum(q * np.log(q / m))
    assert answer.divergence == "js"
    assert math.isclose(answer.value, expected, rel_tol=1e-12)


def test_list_divergences_through_the_client(api: object) -> None:
    models = module("models")
    listed = module("api.divergences.list_divergences").sync(client=api)
    assert isinstance(listed, list)
    assert all(isinstance(d, models.DivergenceInfo) for d in listed)
    assert {"kl", "js"} <= {d.name for d in listed}


def test_invalid_input_parses_as_the_documented_error(api: object) -> None:
    models = module("models")
    body = models.KLRequest(p=[0.5, 0.5], q=[0.2, 0.3, 0.5])
    response = module("api.divergences.kl").sync_detailed(client=api, body=body)
    assert response.status_code == 422
    error = response.parsed
    assert isinstance(error, models.ValidationErrorBody)
    assert error.detail and all(isinstance(e, models.ErrorItem) for e in error.detail)
    assert error.detail[0].loc[0] == "body"
    assert error.detail[0].msg


def test_every_schema_of_the_document_becomes_a_model(generated: ModuleType) -> None:
    schemas = json.loads((ROOT / "openapi" / "openapi.json").read_text())["components"]["schemas"]
    titles = [schema.get("title", name) for name, schema in schemas.items()]
    assert len(set(titles)) == len(titles), f"two schemas share a title: {sorted(titles)}"
    # A schema that is one of several (a distribution: one per family) becomes a union of
    # the alternatives' models, each named after its title in CamelCase.
    expected = [
        "".join(part.title() for part in alternative["title"].split("_"))
        for schema in schemas.values()
        for alternative in schema.get("oneOf", [])
    ]
    expected += [
        schema.get("title", name) for name, schema in schemas.items() if "oneOf" not in schema
    ]
    models = module("models")
    assert [t for t in expected if not hasattr(models, t)] == []
