"""The Dockerfile and the compose file, checked without a Docker engine: linted, validated
against the Compose specification, and their very commands run as processes against the
real Redis and PostgreSQL of this machine."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import ROOT, start_server, stop_server
from tests.hardening.container import dockerfile_env
from tests.jobs.helpers import QUICK, finished, submit, wait_for
from tests.scaleout.conftest import start_worker

BIN = Path(sys.executable).parent


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([BIN / "hadolint", ROOT / "Dockerfile"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.gpu.yml"])
def test_compose_files_follow_the_compose_specification(name: str) -> None:
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", ROOT / name],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_multi_stage_pinned_and_runs_as_a_non_root_user() -> None:
    text = (ROOT / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert len(bases) >= 2 and all(re.search(r":\d+\.\d+\.\d+-slim", b) for b in bases)
    assert re.search(r"^USER 10001", text, re.MULTILINE)
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert text.index("COPY pyproject.toml") < text.index("COPY service")


def test_compose_wires_the_whole_system_and_workers_scale() -> None:
    services = compose()["services"]
    assert set(services) == {"api", "worker", "redis", "postgres"}
    for name in ("api", "worker"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        env = services[name]["environment"]
        assert env["DIVERGENCE_QUEUE_URL"].startswith("redis://redis:")
        assert "@postgres:5432/" in env["DIVERGENCE_DATABASE_URL"]
        assert any(v.endswith(":/data/cifar10:ro") for v in services[name]["volumes"])
    assert "container_name" not in services["worker"] and "ports" not in services["worker"]
    assert "healthcheck" in services["postgres"] and "healthcheck" in services["redis"]
    assert any(v.startswith("postgres-data:") for v in services["postgres"]["volumes"])
    assert "--appendonly" in services["redis"]["command"]


def local(command: list[str], port_free: bool = True) -> list[str]:
    """A compose command as a local process: the venv's executable, loopback, no port."""
    argv = [str(BIN / command[0]), *command[1:]]
    if "--host" in argv:
        argv[argv.index("--host") + 1] = "127.0.0.1"
    if port_free and "--port" in argv:
        i = argv.index("--port")
        del argv[i : i + 2]
    return argv


def test_the_containers_commands_run_against_real_redis_and_postgres(
    tmp_path: Path, tiny_cifar: Path, database_url: str, queue_url: str
) -> None:
    services = compose()["services"]
    # The image's and the compose file's environment, with the hosts of compose's network
    # (postgres, redis) and its mounts mapped to this machine's services and folders.
    env = {
        **dockerfile_env(),
        **services["api"]["environment"],
        "DIVERGENCE_DATABASE_URL": database_url,
        "DIVERGENCE_QUEUE_URL": queue_url,
        "DIVERGENCE_CIFAR10_DIR": str(tiny_cifar),
        "DIVERGENCE_DATA_DIR": str(tmp_path / "data"),
        "MPLCONFIGDIR": str(tmp_path / "mpl"),
        "KERAS_HOME": str(tmp_path / "keras"),
        "DIVERGENCE_HEARTBEAT_SECONDS": "0.5",
    }
    api = start_server(tmp_path, env=env, argv=local(services["api"]["command"]))
    assert services["worker"]["command"] == ["divergence-service", "worker"]
    worker, _ = start_worker(tmp_path, env)
    try:
        port = api.url.rsplit(":", 1)[1]
        dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
        found = re.search(r"HEALTHCHECK .*?CMD (\[.*\])", dockerfile)
        assert found is not None
        health = [arg.replace("8000", port) for arg in json.loads(found.group(1))]
        checked = subprocess.run([str(BIN / health[0]), *health[1:]], env={**os.environ, **env})
        assert checked.returncode == 0, "the image's HEALTHCHECK fails"
        with httpx.Client(base_url=api.url, timeout=30) as client:
            assert client.get("/readyz").status_code == 200
            job = submit(client, **QUICK, losses=["kl"])
            assert wait_for(client, job["id"], finished)["status"] == "succeeded"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        stop_server(api)
