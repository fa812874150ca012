"""/docs and /redoc work offline: every script and stylesheet is served by the service."""

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.conftest import Server

CHROMIUM = "/usr/bin/chromium"
PAGES = ["/docs", "/redoc"]


class Assets(HTMLParser):
    """The URLs a page loads: script sources and linked stylesheets and icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(str(found["src"]))
        elif tag == "link" and found.get("href"):
            self.urls.append(str(found["href"]))


def assets(html: str) -> list[str]:
    parser = Assets()
    parser.feed(html)
    return parser.urls


def page(client: httpx.Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


@pytest.mark.parametrize("path", PAGES)
def test_docs_page_loads_only_assets_of_the_service(client: httpx.Client, path: str) -> None:
    html = page(client, path)
    urls = assets(html)
    assert any(u.endswith(".js") for u in urls), urls
    if path == "/docs":
        assert any(u.endswith(".css") for u in urls), urls
    origin = urlsplit(str(client.base_url)).netloc
    for url in urls:
        assert urlsplit(urljoin(f"{client.base_url}{path}", url)).netloc == origin, url
    # Not even an inline script or style reaches another host (fonts, CDNs).
    elsewhere = [u for u in re.findall(r"https?://[^\s'\"<>)]+", html) if origin not in u]
    assert elsewhere == []


@pytest.mark.parametrize("path", PAGES)
def test_docs_assets_are_served(client: httpx.Client, path: str) -> None:
    for url in assets(page(client, path)):
        response = client.get(urljoin(f"{client.base_url}{path}", url))
        assert response.status_code == 200, url
        smallest = 10_000 if url.endswith((".js", ".css")) else 100
        assert len(response.content) > smallest, f"{url}: {len(response.content)} bytes"
        if url.endswith(".js"):
            assert "javascript" in response.headers["content-type"], url
        elif url.endswith(".css"):
            assert response.headers["content-type"].startswith("text/css"), url


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
@pytest.mark.parametrize(
    ("path", "operation_marker"), [("/docs", "opblock"), ("/redoc", "operation-type")]
)
def test_docs_render_the_operations_in_a_browser_offline(
    server: Server, tmp_path: Path, path: str, operation_marker: str
) -> None:
    # Every host but the service's is unresolvable: a page that needed a CDN would be empty.
    dom = subprocess.run(
        [
            shutil.which(CHROMIUM) or CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=5000",
            "--dump-dom",
            f"{server.url}{path}",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=90,
    ).stdout
    assert operation_marker in dom
    assert "/kl/batch" in dom
