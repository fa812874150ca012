"""A TypeScript client generated from the committed OpenAPI document talks to the real server.

``clients/typescript`` generates types with openapi-typescript from ``openapi/openapi.json``,
type-checks its test against them with ``tsc`` (so a drift between the document and the code
using it fails) and calls the running service with openapi-fetch under node's test runner.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, Server

CLIENT = ROOT / "clients" / "typescript"
EXPECTED_TESTS = 7  # the test() calls in clients/typescript/test/client.test.ts

# Quiet, offline-friendly npm: no audit, funding or update checks.
NPM_ENV = {
    "npm_config_audit": "false",
    "npm_config_fund": "false",
    "npm_config_update_notifier": "false",
}


def npm(command: list[str], timeout: float, env: dict[str, str] | None = None) -> str:
    """Run ``npm *command`` in the client's folder; its output, or a failure that shows it."""
    executable = shutil.which("npm")
    assert executable is not None
    try:
        run = subprocess.run(
            [executable, *command],
            cwd=CLIENT,
            env={**os.environ, **NPM_ENV, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"npm {' '.join(command)} took over {timeout} s: {expired.output}")
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"npm {' '.join(command)} exited {run.returncode}:\n{output}"
    return output


@pytest.fixture(scope="module")
def typescript_client() -> Path:
    """The client's dependencies installed from its lock file and its types generated, once."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not on PATH: the TypeScript client needs Node.js and npm")
    npm(["ci", "--no-audit", "--no-fund"], timeout=300)
    npm(["run", "generate"], timeout=120)
    schema = CLIENT / "src" / "schema.d.ts"
    assert schema.is_file(), f"npm run generate wrote no {schema}"
    return CLIENT


def test_the_client_code_type_checks_against_the_document(typescript_client: Path) -> None:
    npm(["run", "typecheck"], timeout=180)


def test_the_typescript_client_calls_the_server(typescript_client: Path, server: Server) -> None:
    output = npm(["test"], timeout=300, env={"SERVICE_URL": server.url})
    counts = {
        name: int(value)
        for name, value in re.findall(r"^# (tests|pass|fail|cancelled) (\d+)$", output, re.M)
    }
    assert counts == {"tests": EXPECTED_TESTS, "pass": EXPECTED_TESTS, "fail": 0, "cancelled": 0}, (
        output
    )
