"""Audit the locked dependencies (requirements.lock) against the advisories PyPI publishes.

    python tools/audit_dependencies.py [--lock requirements.lock] [--check-installed]

Why not pip-audit: its ``osv`` service (api.osv.dev) cannot be reached from this project's
machines, and its ``pypi`` service asks ``/pypi/<name>/<version>/json``, which the index
reachable here answers with 404; pip-audit then *skips* the package and exits 0, so it
would pass without having checked anything. ``uv audit`` speaks only OSV; pysentry-rs's
``pypi`` source reports "no vulnerabilities" for pycrypto 2.6.1, which has four.

What is reachable is the project document, ``/pypi/<name>/json``: its ``vulnerabilities``
are PyPI's advisories (OSV/PYSEC/GHSA ids) for the project's *latest release*. So, for each
locked package:

- locked version == latest release: fully checked; every advisory listed applies;
- locked version older (or newer) than the latest: an advisory listed for the latest release
  is taken to apply too, unless the locked version is at or above one of its ``fixed_in``
  versions in the same major.minor series; advisories that affected only older releases are
  not published there, so the package is reported as *not fully checked*.

Exit status: 0 when no advisory applies (the not-fully-checked packages are listed);
1 when one applies; 2 when the audit could not be done: the index unreachable, a package
missing from it, a malformed lock, or (``--check-installed``) an installed package that the
lock lacks or pins at another version. It never passes without an answer for every locked
package.

The lock is ``pip freeze`` of a fresh install of the project with its dev extra, in a venv
whose setuptools is current (``--upgrade-deps``: the one venv bundles with Python 3.11 is
65.5.0, older than the build's ``setuptools>=69``, which the constraints also bind). To
regenerate it, for example to take a fixed release, from the repository root::

    rm -rf /tmp/lock && python3 -m venv --upgrade-deps /tmp/lock \\
      && /tmp/lock/bin/pip install -q -e '.[dev]' \\
      && (grep '^#' requirements.lock; /tmp/lock/bin/pip freeze --all --exclude-editable \\
          --exclude pip) > new.lock && mv new.lock requirements.lock

(``--all`` keeps setuptools and wheel, which tensorflow and astunparse require; pip, the
installer, is left out.)
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INDEX = "https://pypi.org/pypi"
# The installer: venv puts it there, the project does not (the lock leaves it out).
TOOLING = frozenset({"pip"})
NOT_FULLY_CHECKED = (
    "not fully checked (only the latest release's advisories are published on the reachable index)"
)

Status = Literal["vulnerable", "clean", "unchecked"]


@dataclass(frozen=True)
class Assessment:
    name: str
    locked: str
    latest: str
    status: Status
    advisories: tuple[Mapping[str, Any], ...] = field(default=())


class AuditError(Exception):
    """The audit could not be done (exit status 2)."""


def _versions(values: Iterable[str]) -> list[Version]:
    parsed = []
    for value in values:
        try:
            parsed.append(Version(value))
        except InvalidVersion:
            continue
    return parsed


def advisory_applies(locked: Version, latest: Version, advisory: Mapping[str, Any]) -> bool:
    """Whether an advisory that PyPI lists for the latest release applies to ``locked``."""
    if advisory.get("withdrawn"):
        return False
    if locked == latest:
        return True
    # The latest release is affected. An older one is taken to be too (the advisory's
    # introduced-in version is not published), unless it is at or above a fix released in
    # its own major.minor series.
    return not any(
        fixed.release[:2] == locked.release[:2] and locked >= fixed
        for fixed in _versions(advisory.get("fixed_in") or [])
    )


def assess(
    name: str, locked: str, project: Mapping[str, Any], ignore: Iterable[str] = ()
) -> Assessment:
    """Decide one locked package from its PyPI project document (``/pypi/<name>/json``)."""
    latest = str(project["info"]["version"])
    locked_version, latest_version = Version(locked), Version(latest)
    ignored = set(ignore)
    applying = tuple(
        advisory
        for advisory in project.get("vulnerabilities") or []
        if advisory_applies(locked_version, latest_version, advisory)
        and not ({advisory.get("id"), *(advisory.get("aliases") or [])} & ignored)
    )
    if applying:
        status: Status = "vulnerable"
    elif locked_version == latest_version:
        status = "clean"
    else:
        status = "unchecked"
    return Assessment(name, locked, latest, status, applying)


def read_lock(path: Path) -> dict[str, str]:
    """``name==version`` lines (comments and blank lines aside) as {name: version}."""
    pins: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not name.strip() or not version.strip() or ";" in line or "@" in line:
            raise AuditError(f"{path}:{number}: not an exact pin (name==version): {raw!r}")
        try:
            Version(version.strip())
        except InvalidVersion as error:
            raise AuditError(f"{path}:{number}: {error}") from error
        pins[name.strip()] = version.strip()
    if not pins:
        raise AuditError(f"{path}: no pinned package")
    return pins


def project_name() -> str:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return str(tomllib.load(file)["project"]["name"])


def installed_differences(
    pins: Mapping[str, str], exclude: Iterable[str] = ()
) -> tuple[list[str], list[str]]:
    """How the running interpreter's distributions differ from the lock: the problems (a
    version other than the locked one, a package the lock lacks, so not audited) and the
    notes (a locked package not installed: audited all the same)."""
    skip = {canonicalize_name(n) for n in (*TOOLING, *exclude)}
    installed = {
        canonicalize_name(d.metadata["Name"]): d.version
        for d in importlib.metadata.distributions()
        if canonicalize_name(d.metadata["Name"]) not in skip
    }
    locked = {canonicalize_name(n): v for n, v in pins.items()}
    problems, notes = [], []
    for name in sorted(installed.keys() | locked.keys()):
        have, want = installed.get(name), locked.get(name)
        if have is None:
            notes.append(f"{name}=={want} is locked but not installed")
        elif want is None:
            problems.append(f"{name}=={have} is installed but not in the lock")
        elif Version(have) != Version(want):
            problems.append(f"{name} is {have} installed, {want} locked")
    return problems, notes


async def fetch_projects(
    names: Sequence[str], client: httpx.AsyncClient, index: str, attempts: int = 3
) -> tuple[dict[str, Mapping[str, Any]], dict[str, str]]:
    """Every project's document, concurrently; a second map holds the failures' reasons."""
    limit = asyncio.Semaphore(16)

    async def one(name: str) -> Mapping[str, Any] | str:
        url = f"{index.rstrip('/')}/{name}/json"
        reason = ""
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(0.5 * 2**attempt)
            try:
                async with limit:
                    response = await client.get(url)
            except httpx.HTTPError as error:
                reason = f"{url}: {type(error).__name__}: {error}"
                continue
            if response.status_code == 404:
                return f"{url}: 404, not on the index"
            if response.status_code != 200:
                reason = f"{url}: HTTP {response.status_code}"
                continue
            try:
                document = response.json()
            except ValueError:
                document = None
            if not isinstance(document, dict) or "version" not in (document.get("info") or {}):
                return f"{url}: not a PyPI project document"
            return document
        return reason

    answers = await asyncio.gather(*(one(name) for name in names))
    documents: dict[str, Mapping[str, Any]] = {}
    failures: dict[str, str] = {}
    for name, answer in zip(names, answers, strict=True):
        if isinstance(answer, str):
            failures[name] = answer
        else:
            documents[name] = answer
    return documents, failures


def audit(
    pins: Mapping[str, str],
    index: str = DEFAULT_INDEX,
    ignore: Iterable[str] = (),
    transport: httpx.AsyncBaseTransport | None = None,
    attempts: int = 3,
) -> list[Assessment]:
    """Assess every pinned package; AuditError unless each one could be looked up."""

    async def run() -> tuple[dict[str, Mapping[str, Any]], dict[str, str]]:
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(20, connect=10),
            follow_redirects=True,
            transport=transport,
            headers={"accept": "application/json"},
        ) as client:
            return await fetch_projects(list(pins), client, index, attempts)

    documents, failures = asyncio.run(run())
    if failures:
        lines = "\n".join(f"  {name}: {reason}" for name, reason in sorted(failures.items()))
        what = "the index could not be reached" if not documents else "some packages failed"
        raise AuditError(
            f"{what}: {len(failures)} of {len(pins)} locked packages not audited\n{lines}"
        )
    return [assess(name, pins[name], documents[name], ignore) for name in pins]


def report(assessments: Sequence[Assessment], index: str) -> str:
    by_status = {
        status: [a for a in assessments if a.status == status]
        for status in ("vulnerable", "clean", "unchecked")
    }
    lines = [
        f"audited {len(assessments)} locked packages against {index} "
        "(PyPI's advisories for each project's latest release)"
    ]
    for a in by_status["vulnerable"]:
        for advisory in a.advisories:
            aliases = ", ".join(advisory.get("aliases") or [])
            fixed = ", ".join(advisory.get("fixed_in") or []) or "no fixed release"
            lines.append(
                f"VULNERABLE {a.name}=={a.locked} (latest {a.latest}): {advisory.get('id')}"
                f" ({aliases}); fixed in: {fixed}; {advisory.get('link', '')}".rstrip("; ")
            )
    lines.append(
        f"clean: {len(by_status['clean'])} packages (locked at the latest release, which "
        "has no advisory)"
    )
    unchecked = by_status["unchecked"]
    lines.append(f"{NOT_FULLY_CHECKED}: {len(unchecked)} packages older than their latest")
    lines += [f"  {a.name}=={a.locked} (latest {a.latest})" for a in unchecked]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--index-url", default=DEFAULT_INDEX, help="PyPI's JSON API root")
    parser.add_argument(
        "--ignore", action="append", default=[], metavar="ID", help="an advisory id or alias"
    )
    parser.add_argument(
        "--check-installed",
        action="store_true",
        help="also fail unless this interpreter's packages are exactly the lock's",
    )
    args = parser.parse_args(argv)
    try:
        pins = read_lock(args.lock)
        if args.check_installed:
            problems, notes = installed_differences(pins, exclude=[project_name()])
            for note in notes:
                print(f"note: {note}")
            if problems:
                raise AuditError(
                    "the environment differs from the lock (regenerate it, see "
                    "tools/audit_dependencies.py):\n  " + "\n  ".join(problems)
                )
        assessments = audit(pins, args.index_url, args.ignore)
    except (AuditError, OSError) as error:
        print(f"dependency audit FAILED, could not audit: {error}", file=sys.stderr)
        return 2
    print(report(assessments, args.index_url))
    if any(a.status == "vulnerable" for a in assessments):
        print("dependency audit FAILED: an advisory applies to a locked version", file=sys.stderr)
        return 1
    print("dependency audit passed: no published advisory applies to a locked version")
    return 0


if __name__ == "__main__":
    sys.exit(main())
