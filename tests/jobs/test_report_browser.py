"""The report page in a real headless browser (Debian's chromium): the pictures render."""

import shutil
import subprocess
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.conftest import Server
from tests.jobs.helpers import finished, submit, wait_for

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ORANGE = np.array([0xFF, 0x7F, 0x0E])  # matplotlib's tab:orange, the CE lines
BLUE = np.array([0x1F, 0x77, 0xB4])  # tab:blue, the KL lines


def screenshot(url: str, tmp_path: Path) -> np.ndarray:
    out = tmp_path / "page.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--hide-scrollbars",
            "--window-size=1000,1600",
            "--virtual-time-budget=3000",
            f"--screenshot={out}",
            url,
        ],
        check=True,
        capture_output=True,
        timeout=90,
    )
    return np.asarray(Image.open(out).convert("RGB")).astype(int)


def pixels_near(image: np.ndarray, colour: np.ndarray) -> int:
    return int((np.abs(image - colour).sum(axis=-1) < 40).sum())


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_report_renders_its_learning_curves_in_a_browser(
    jobs_server: Server, jobs_client: httpx.Client, tmp_path: Path
) -> None:
    job = submit(jobs_client, epochs=4, batch_size=32, runs=2)
    done = wait_for(jobs_client, job["id"], finished)
    assert done["status"] == "succeeded"
    page = screenshot(f"{jobs_server.url}/jobs/{job['id']}/report", tmp_path)
    # The lines of both losses are drawn: the pictures loaded and rendered.
    assert pixels_near(page, ORANGE) > 200
    assert pixels_near(page, BLUE) > 50


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_report_is_readable_while_the_job_runs(
    jobs_server: Server, jobs_client: httpx.Client, tmp_path: Path
) -> None:
    job = submit(jobs_client, epochs=400, batch_size=32, runs=1, losses=["ce"])
    wait_for(jobs_client, job["id"], lambda j: (j["progress"] or {}).get("epoch", 0) >= 2)
    page = screenshot(f"{jobs_server.url}/jobs/{job['id']}/report", tmp_path)
    assert pixels_near(page, ORANGE) > 50
    html = jobs_client.get(f"/jobs/{job['id']}/report").text
    assert "running" in html and 'http-equiv="refresh"' in html
    jobs_client.delete(f"/jobs/{job['id']}")
    wait_for(jobs_client, job["id"], finished)
