"""The images containers are made from: the checkout made to look like the image, and the
image itself, built from the Dockerfile by tools/image/build and mounted with buildah."""

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.hardening.container import Image

IMAGE = "localhost/divergence-service:latest"


def buildah_refused() -> str | None:
    """Why the image cannot be built here, or None when it can."""
    if os.geteuid() != 0:
        return "building the image with buildah needs root"
    missing = [tool for tool in ("buildah", "debootstrap") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not installed (Debian packages; .ci/run installs them)"
    return None


@pytest.fixture(scope="session")
def built_image() -> Iterator[Image]:
    """The Dockerfile built (minutes the first time; its cached layers make a rebuild
    seconds) and its root file system mounted, for the whole session."""
    reason = buildah_refused()
    if reason is not None:
        # CI installs what the build needs: there, a missing tool is a failure, not a skip.
        (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)
    subprocess.run([ROOT / "tools" / "image" / "build", IMAGE], check=True)
    made = subprocess.run(
        ["buildah", "from", "--pull-never", IMAGE], capture_output=True, text=True, check=True
    )
    container = made.stdout.strip()
    try:
        mounted = subprocess.run(
            ["buildah", "mount", container], capture_output=True, text=True, check=True
        )
        yield Image.built(IMAGE, Path(mounted.stdout.strip()))
    finally:
        subprocess.run(["buildah", "rm", container], capture_output=True, check=False)


@pytest.fixture(
    params=["checkout", pytest.param("built", marks=[pytest.mark.slow, pytest.mark.image])]
)
def image(request: pytest.FixtureRequest) -> Image:
    """Each container test runs on both images."""
    if request.param == "checkout":
        return Image.checkout()
    built: Image = request.getfixturevalue("built_image")
    return built
