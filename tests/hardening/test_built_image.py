"""The image built from the Dockerfile holds what the checkout holds: the installed package
is service/ file by file, and the OpenAPI document it exports is the committed one. (That the
image serves and trains, as compose runs it, is tests/hardening/test_read_only_container.py.)"""

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.hardening.container import DATA_DIR, GID, UID, Container, Image
from tests.hardening.test_read_only_container import assert_clean, volume

pytestmark = [pytest.mark.slow, pytest.mark.image]


def digests(package: Path) -> dict[str, str]:
    """Every file under ``package`` but bytecode caches: its path there and SHA-256."""
    return {
        str(path.relative_to(package)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(package.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_installed_package_is_the_checkouts_service_folder_file_by_file(
    built_image: Image,
) -> None:
    assert built_image.root is not None
    (installed,) = built_image.root.glob("opt/venv/lib/python3*/site-packages/service")
    in_image, in_checkout = digests(installed), digests(ROOT / "service")
    assert in_image.keys() == in_checkout.keys()
    differ = [name for name, digest in in_checkout.items() if in_image[name] != digest]
    assert not differ, f"installed files differ from the checkout's: {differ}"


def test_the_builds_pip_configuration_and_ca_bundle_are_in_no_layer_of_the_image(
    built_image: Image,
) -> None:
    """tools/image/build mounts them as secrets for the install steps only."""
    assert built_image.root is not None
    for left in ("etc/pip.conf", "run/secrets/pip.conf", "run/secrets/ca-bundle.crt"):
        assert not (built_image.root / left).exists(), left


def test_the_openapi_document_the_image_exports_is_the_committed_one(
    tmp_path: Path, built_image: Image
) -> None:
    out = volume(tmp_path, "out")
    container = Container(tmp_path / "export-root", built_image, {}, volumes={DATA_DIR: out})
    log = tmp_path / "export.log"
    export = ["divergence-service", "export-openapi", "--output", f"{DATA_DIR}/openapi.json"]
    with log.open("wb") as output:
        exported = subprocess.run(container.argv(export), stdout=output, stderr=output)
    assert exported.returncode == 0, log.read_text()
    document = out / "openapi.json"
    assert os.stat(document).st_uid == UID and os.stat(document).st_gid == GID
    assert document.read_text() == (ROOT / "openapi" / "openapi.json").read_text()
    assert_clean(log)
