"""The drift report page in a real headless browser (Debian's chromium): the table and the
pictures of reference and current distributions render."""

from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.conftest import Server
from tests.jobs.test_report_browser import BLUE, CHROMIUM, ORANGE, pixels_near, screenshot
from tests.samples.test_profiles_http import ARROW, arrow_body


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_the_drift_report_draws_reference_and_current_in_a_browser(
    server: Server, client: httpx.Client, tmp_path: Path
) -> None:
    rng = np.random.default_rng(5)
    reference = {"price": rng.normal(0, 1, 5000), "city": rng.choice(["a", "b", "c"], 5000)}
    profile = client.post(
        "/profiles", content=arrow_body(reference), headers={"Content-Type": ARROW}
    ).json()
    current = {"price": rng.normal(1, 1, 5000), "city": rng.choice(["a", "b", "d"], 5000)}
    found = client.post(
        f"/profiles/{profile['id']}/drift",
        content=arrow_body(current),
        headers={"Content-Type": ARROW},
    ).json()
    page = screenshot(f"{server.url}{found['report']}", tmp_path)
    # Both pictures loaded and drew both distributions (a page without them has neither).
    assert pixels_near(page, BLUE) > 2000
    assert pixels_near(page, ORANGE) > 2000
