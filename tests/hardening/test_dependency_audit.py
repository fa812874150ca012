"""tools/audit_dependencies.py: its decision on recorded PyPI documents, the whole command
against an index on loopback (vulnerable, unreachable), the lock against pyproject.toml,
and one live look-up of a known-vulnerable release, skipped when PyPI cannot be reached."""

import copy
import http.server
import importlib.metadata
import json
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT, free_port
from tools.audit_dependencies import (
    NOT_FULLY_CHECKED,
    AuditError,
    assess,
    audit,
    installed_differences,
    main,
    project_name,
    read_lock,
)

# PyPI's document for pycrypto as the reachable index served it: four advisories (PYSEC and
# GHSA, no fixed release) on its latest release, 2.6.1.
PYCRYPTO: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "pypi-pycrypto.json").read_text()
)
PYCRYPTO_IDS = {"PYSEC-2017-94", "PYSEC-2018-97", "GHSA-6528-wvf6-f6qg", "GHSA-cq27-v7xp-c356"}


def document(latest: str, advisories: list[dict[str, Any]]) -> dict[str, Any]:
    return {"info": {"name": "example", "version": latest}, "vulnerabilities": advisories}


def advisory(fixed_in: list[str], **changes: Any) -> dict[str, Any]:
    """An advisory of the recorded shape (pycrypto's first), with other fixed releases."""
    return {**copy.deepcopy(PYCRYPTO["vulnerabilities"][0]), "fixed_in": fixed_in, **changes}


def test_the_latest_release_with_advisories_is_vulnerable() -> None:
    found = assess("pycrypto", "2.6.1", PYCRYPTO)
    assert found.status == "vulnerable" and found.latest == "2.6.1"
    assert {a["id"] for a in found.advisories} == PYCRYPTO_IDS


def test_an_older_release_is_vulnerable_to_an_advisory_with_no_fix() -> None:
    found = assess("pycrypto", "2.6", PYCRYPTO)
    assert found.status == "vulnerable" and len(found.advisories) == 4


def test_a_fix_in_the_locked_series_clears_it_and_only_that() -> None:
    # Latest 3.0.0 is affected; 2.5.3 fixed it on the 2.5 line.
    doc = document("3.0.0", [advisory(["2.5.3"])])
    assert assess("x", "3.0.0", doc).status == "vulnerable"
    assert assess("x", "2.5.2", doc).status == "vulnerable"  # below the fix
    assert assess("x", "2.5.4", doc).status == "unchecked"  # fixed on its line, not latest
    assert assess("x", "2.4.0", doc).status == "vulnerable"  # no fix on its line


def test_withdrawn_and_ignored_advisories_do_not_count() -> None:
    withdrawn = document("1.0", [advisory([], withdrawn="2024-01-01T00:00:00Z")])
    assert assess("x", "1.0", withdrawn).status == "clean"
    by_alias = assess("pycrypto", "2.6.1", PYCRYPTO, ignore=["CVE-2013-7459"])
    assert {a["id"] for a in by_alias.advisories} == PYCRYPTO_IDS - {
        "PYSEC-2017-94",
        "GHSA-cq27-v7xp-c356",
    }
    assert assess("pycrypto", "2.6.1", PYCRYPTO, ignore=PYCRYPTO_IDS).status == "clean"


def test_without_advisories_latest_is_clean_and_older_is_not_fully_checked() -> None:
    doc = document("2.0.0", [])
    assert assess("x", "2.0.0", doc).status == "clean"
    assert assess("x", "1.9.0", doc).status == "unchecked"
    assert assess("x", "2.1.0rc1", doc).status == "unchecked"


def test_the_lock_is_exact_pins_only(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("# made by pip freeze\n\nHTTPX==0.28.1  # a comment\nnumpy==2.4.6\n")
    assert read_lock(lock) == {"HTTPX": "0.28.1", "numpy": "2.4.6"}
    for bad in ("numpy>=2\n", "numpy\n", "numpy==2; python_version>'3'\n", "# only\n"):
        lock.write_text(bad)
        with pytest.raises(AuditError):
            read_lock(lock)


def test_the_lock_pins_every_dependency_within_pyproject_ranges() -> None:
    """pyproject.toml's dependencies and the test and dev extras, each in the lock at a
    version inside its range (CI installs with the lock as constraints)."""
    pins = {canonicalize_name(k): v for k, v in read_lock(ROOT / "requirements.lock").items()}
    with (ROOT / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)["project"]
    wanted = [
        *project["dependencies"],
        *project["optional-dependencies"]["test"],
        *project["optional-dependencies"]["dev"],
    ]
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        if name == canonicalize_name(project["name"]):
            continue
        assert name in pins, f"{line} is not in requirements.lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (line, pins[name])
    assert "pip" not in pins and {"setuptools", "wheel"} <= pins.keys()


def test_the_installed_packages_are_compared_with_the_lock() -> None:
    here = {
        d.metadata["Name"]: d.version
        for d in importlib.metadata.distributions()
        if canonicalize_name(d.metadata["Name"]) not in {"pip", project_name()}
    }
    assert installed_differences(here, exclude=[project_name()]) == ([], [])
    changed = {**here, "httpx": "0.0.1", "not-a-real-package": "1.0"}
    del changed["numpy"]
    assert installed_differences(changed, exclude=[project_name()]) == (
        [
            f"httpx is {here['httpx']} installed, 0.0.1 locked",
            f"numpy=={here['numpy']} is installed but not in the lock",
        ],
        ["not-a-real-package==1.0 is locked but not installed"],
    )


def test_a_package_missing_from_the_index_fails_the_audit() -> None:
    def index(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/pypi/pycrypto/json":
            return httpx.Response(200, json=PYCRYPTO)
        return httpx.Response(404, json={"message": "Not Found"})

    pins = {"pycrypto": "2.6.1", "not-on-the-index": "1.0"}
    with pytest.raises(
        AuditError, match=r"(?s)some packages failed: 1 of 2.*404, not on the index"
    ):
        audit(pins, "https://index.test/pypi", transport=httpx.MockTransport(index))
    (found,) = audit({"pycrypto": "2.6"}, transport=httpx.MockTransport(index))
    assert found.status == "vulnerable"


def test_an_unreachable_index_fails_the_audit() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(AuditError, match="the index could not be reached: 2 of 2"):
        audit({"a": "1", "b": "2"}, transport=httpx.MockTransport(down), attempts=2)


@pytest.fixture
def index_on_loopback() -> Iterator[str]:
    """A PyPI JSON API that knows pycrypto (the recorded document) and httpx (no
    advisories, latest 0.28.1)."""
    documents = {
        "/pypi/pycrypto/json": PYCRYPTO,
        "/pypi/httpx/json": document("0.28.1", []),
        "/pypi/numpy/json": document("9.0.0", []),
    }

    class Index(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = documents.get(self.path)
            body = json.dumps(found or {"message": "Not Found"}).encode()
            self.send_response(200 if found else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Index)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/pypi"
    server.shutdown()
    server.server_close()


def test_the_command_fails_on_a_vulnerable_lock_and_passes_a_clean_one(
    tmp_path: Path, index_on_loopback: str, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("httpx==0.28.1\npycrypto==2.6.1\nnumpy==2.4.6\n")
    assert main(["--lock", str(lock), "--index-url", index_on_loopback]) == 1
    out, err = capsys.readouterr()
    assert "VULNERABLE pycrypto==2.6.1 (latest 2.6.1): PYSEC-2017-94" in out
    assert "CVE-2013-7459" in out and "FAILED" in err
    lock.write_text("httpx==0.28.1\nnumpy==2.4.6\n")
    assert main(["--lock", str(lock), "--index-url", index_on_loopback]) == 0
    out, _ = capsys.readouterr()
    assert "clean: 1 packages" in out
    assert f"{NOT_FULLY_CHECKED}: 1 packages" in out and "numpy==2.4.6 (latest 9.0.0)" in out
    assert "passed" in out


def test_the_command_fails_clearly_when_the_index_is_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("httpx==0.28.1\n")
    closed = f"http://127.0.0.1:{free_port()}/pypi"
    assert main(["--lock", str(lock), "--index-url", closed]) == 2
    _, err = capsys.readouterr()
    assert "could not audit: the index could not be reached: 1 of 1" in err


def test_live_pypi_flags_pycrypto_2_6_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        reachable = httpx.get("https://pypi.org/pypi/pycrypto/json", timeout=10)
    except httpx.HTTPError as error:
        pytest.skip(f"pypi.org cannot be reached: {error}")
    if reachable.status_code != 200:
        pytest.skip(f"pypi.org answers {reachable.status_code}")
    lock = tmp_path / "requirements.lock"
    lock.write_text("pycrypto==2.6.1\n")
    assert main(["--lock", str(lock)]) == 1
    out, _ = capsys.readouterr()
    assert "VULNERABLE pycrypto==2.6.1" in out and "PYSEC-2017-94" in out
