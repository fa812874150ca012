"""The image's and the compose file's commands run the way their containers would: as uid
10001 with no capabilities, on a read-only root file system, writable only where
docker-compose.yml declares it (its tmpfs and volumes). There is no Docker engine here:
tests/hardening/container.py builds that container from Linux namespaces (root needed).

Each test runs on two images (tests/hardening/conftest.py): the checkout made to look like
the image (fast, everywhere), and the image built from the Dockerfile (slow, with buildah).

The writable places are read from docker-compose.yml, so a service that starts needing a
place the compose file does not declare fails here with "Read-only file system"."""

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, start_server, stop_server
from tests.hardening.container import (
    DATA_DIR,
    GID,
    HOME,
    UID,
    Container,
    Image,
    dockerfile_env,
    namespaces_refused,
)
from tests.jobs.helpers import QUICK, finished, submit, wait_for
from tests.scaleout.test_containers import compose

PAIR = {"p": [0.1, 0.4, 0.5], "q": [0.8, 0.15, 0.05]}
KL = 1.3356800935337299  # README's first example
# Signs that a process wanted to write outside the declared places.
WRITE_FAILURES = ("Read-only file system", "Permission denied", "Traceback")

PROBE = """
import json, os, sys
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
writes = {}
for folder in sys.argv[1:]:
    path = os.path.join(folder, ".probe")
    try:
        with open(path, "w") as file:
            file.write("x")
        os.remove(path)
        writes[folder] = "written"
    except OSError as error:
        writes[folder] = error.strerror
print(json.dumps({
    "uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(), "cwd": os.getcwd(),
    "CapEff": status["CapEff"].strip(), "CapBnd": status["CapBnd"].strip(),
    "NoNewPrivs": status["NoNewPrivs"].strip(), "writes": writes,
}))
"""


@pytest.fixture(scope="module", autouse=True)
def _namespaces() -> None:
    reason = namespaces_refused()
    if reason is not None:
        pytest.skip(reason)


def volume(tmp: Path, name: str) -> Path:
    """A named volume: Docker fills a new one from the image's folder, owned by the user."""
    folder = tmp / "volumes" / name
    folder.mkdir(parents=True)
    os.chown(folder, UID, GID)
    return folder


def service_container(
    tmp: Path, image: Image, name: str, cifar: Path, environment: dict[str, str], root: str = ""
) -> Container:
    """The container compose makes for service ``name``: its tmpfs and volumes, the bind
    mount of CIFAR-10 read-only."""
    service = compose()["services"][name]
    writable: dict[str, Path] = {}
    read_only: dict[str, Path] = {}
    for spec in service.get("volumes", []):
        mode = "rw"
        if spec.endswith((":ro", ":rw")):
            spec, mode = spec.rsplit(":", 1)
        source, target = spec.rsplit(":", 1)
        if target == "/data/cifar10":
            assert mode == "ro"
            cifar.chmod(0o755)  # pytest makes its folders private; the host's is readable
            read_only[target] = cifar
        else:
            assert not source.startswith((".", "/", "$")) and mode == "rw", spec
            writable[target] = volume(tmp, source)
    return Container(
        tmp / f"{root or name}-root",
        image,
        {**service["environment"], **environment},
        volumes=writable,
        read_only_volumes=read_only,
        tmpfs=tuple(service["tmpfs"]),
    )


def command(argv: list[str]) -> list[str]:
    """A compose or Dockerfile command on loopback, its port left to start_server."""
    argv = list(argv)
    if "--host" in argv:
        argv[argv.index("--host") + 1] = "127.0.0.1"
    if "--port" in argv:
        i = argv.index("--port")
        del argv[i : i + 2]
    return argv


def start_process(argv: list[str], log: Path, ready: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if ready in log.read_text():
            return process
        if process.poll() is not None:
            raise RuntimeError(f"exited: {log.read_text()}")
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"not ready: {log.read_text()}")


def assert_locked_down(pid: int) -> None:
    """The running process itself (not a wrapper): uid 10001, no capabilities, its root
    mounted read-only."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    assert status["Uid"].split() == [str(UID)] * 4 and status["Gid"].split() == [str(GID)] * 4
    assert int(status["CapEff"], 16) == 0 and int(status["CapPrm"], 16) == 0
    mounts = [line.split() for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines()]
    (root,) = [fields for fields in mounts if fields[4] == "/"]
    assert "ro" in root[5].split(","), root


def assert_clean(log: Path) -> None:
    text = log.read_text()
    for sign in WRITE_FAILURES:
        assert sign not in text, f"{log.name}: {sign!r}\n{text[-4000:]}"


def test_compose_declares_the_image_user_a_read_only_root_and_no_capabilities() -> None:
    services = compose()["services"]
    for name in ("api", "worker"):
        service = services[name]
        assert service["user"] == f"{UID}:{GID}"
        assert service["read_only"] is True
        assert service["tmpfs"] == ["/tmp"]
        assert service["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in service["security_opt"]
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(rf"^USER {UID}:{GID}$", text, re.MULTILINE)
    assert f"chown {UID}:{GID} {DATA_DIR}" in text and f'VOLUME ["{DATA_DIR}"]' in text
    # Every place the image's environment points a library at is on the tmpfs.
    env = dockerfile_env()
    assert env["MPLCONFIGDIR"].startswith("/tmp/") and env["KERAS_HOME"].startswith("/tmp/")


@pytest.mark.parametrize("name", ["api", "worker"])
def test_the_container_is_read_only_but_for_what_compose_declares(
    tmp_path: Path, image: Image, tiny_cifar: Path, name: str
) -> None:
    container = service_container(tmp_path, image, name, tiny_cifar, {})
    places = ["/", "/tmp", "/dev/shm", DATA_DIR, HOME, "/etc", "/usr/local", "/var/lib",
              "/opt/venv", "/data/cifar10"]  # fmt: skip
    if image.root is None:
        places.append(str(ROOT))
    probed = subprocess.run(
        container.argv(["python", "-c", PROBE, *places]), capture_output=True, text=True
    )
    assert probed.returncode == 0, probed.stderr
    found: dict[str, Any] = json.loads(probed.stdout)
    assert (found["uid"], found["gid"], found["groups"]) == (UID, GID, [])
    assert found["cwd"] == HOME
    assert int(found["CapEff"], 16) == 0 and int(found["CapBnd"], 16) == 0
    assert found["NoNewPrivs"] == "1"
    # Docker always gives /dev/shm; the rest of what is writable is the compose file's.
    writable = {"/dev/shm", *container.tmpfs, *container.volumes}
    assert {p for p, result in found["writes"].items() if result == "written"} == writable
    for place in set(places) - writable:
        assert found["writes"][place] == "Read-only file system", (place, found["writes"])


def assert_serves(client: httpx.Client) -> None:
    """Live, ready, and answering POST /kl with README's first example."""
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    answer = client.post("/kl", json=PAIR)
    assert answer.status_code == 200 and answer.json()["kl"] == pytest.approx(KL)


def assert_healthcheck_passes(tmp: Path, image: Image, port: str) -> None:
    """The image's HEALTHCHECK, run in a container of its own like ``docker exec``."""
    health = [arg.replace("8000", port) for arg in image.healthcheck]
    probe = Container(tmp / "healthcheck-root", image, {})
    checked = subprocess.run(probe.argv(health), capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_compose_api_and_worker_serve_and_train_on_a_read_only_root(
    tmp_path: Path, image: Image, tiny_cifar: Path, database_url: str, queue_url: str
) -> None:
    services = compose()["services"]
    stores = {
        "DIVERGENCE_DATABASE_URL": database_url,
        "DIVERGENCE_QUEUE_URL": queue_url,
        "DIVERGENCE_HEARTBEAT_SECONDS": "0.5",
    }
    api_container = service_container(tmp_path, image, "api", tiny_cifar, stores)
    worker_container = service_container(tmp_path, image, "worker", tiny_cifar, stores)
    assert DATA_DIR not in api_container.volumes, "the api writes no data of its own"
    logs = worker_container.volumes.get(DATA_DIR)
    api = start_server(tmp_path, argv=api_container.argv(command(services["api"]["command"])))
    worker = start_process(
        worker_container.argv(services["worker"]["command"]), tmp_path / "worker.log", "started"
    )
    try:
        assert_locked_down(api.process.pid)
        assert_locked_down(worker.pid)
        port = api.url.rsplit(":", 1)[1]
        assert_healthcheck_passes(tmp_path, image, port)
        with httpx.Client(base_url=api.url, timeout=30) as client:
            assert_serves(client)
            job = submit(client, **QUICK, losses=["kl"])
            done = wait_for(client, job["id"], finished, timeout=240)
            assert done["status"] == "succeeded", done
            # The report's learning curves are drawn by matplotlib in the api, on /tmp.
            assert client.get(f"/jobs/{job['id']}/report").status_code == 200
            curve = client.get(f"/jobs/{job['id']}/curves/val_accuracy.png")
            assert curve.status_code == 200 and curve.content.startswith(b"\x89PNG")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        stop_server(api)
    # The worker's training log went to its data volume, the only place it kept anything.
    assert logs is not None
    kept = sorted(str(p.relative_to(logs)) for p in logs.rglob("*"))
    assert kept == ["logs", f"logs/{job['id']}.log"]
    assert_clean(api.log)
    assert_clean(tmp_path / "worker.log")


def test_the_images_own_command_serves_with_its_data_on_the_volume(
    tmp_path: Path, image: Image, tiny_cifar: Path
) -> None:
    """``docker run`` of the image alone: its CMD (API and an embedded worker, SQLite), the
    Dockerfile's VOLUME as the data volume, a tmpfs at /tmp, the root read-only."""
    data = volume(tmp_path, "data")
    container = Container(
        tmp_path / "image-root",
        image,
        {"DIVERGENCE_CIFAR10_DIR": "/data/cifar10"},
        volumes={DATA_DIR: data},
        read_only_volumes={"/data/cifar10": tiny_cifar},
    )
    server = start_server(tmp_path, argv=container.argv(command(image.command)))
    try:
        assert_locked_down(server.process.pid)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert_serves(client)
            assert client.get("/jobs").status_code == 200
        assert_healthcheck_passes(tmp_path, image, server.url.rsplit(":", 1)[1])
    finally:
        stop_server(server)
    assert {"jobs.db", "queue.db"} <= {p.name for p in data.iterdir()}
    assert_clean(server.log)
