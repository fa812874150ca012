"""Evidently's side of ``drift_tables.py``: its own virtual environment, and running
``evidently_worker.py`` in it.

Evidently (0.7, the ``bench`` extra) never enters the service's environment: this makes
``.venv-bench`` where it is missing (or uses the interpreter given), installs
``evidently>=0.7,<0.8``, ``pandas>=2,<3`` and pyarrow into it where Evidently 0.7 is not
importable there, and runs the worker on the two tables written as Parquet files.
"""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from _harness import BENCHMARKS, PYTHON, ROOT
from drift_data import CATEGORICAL, NUMERIC, SEED

EVIDENTLY = ("evidently>=0.7,<0.8", "pandas>=2,<3", "pyarrow")  # the bench extra, + pyarrow
BENCH_VENV = ROOT / ".venv-bench"


def _evidently_version(python: Path) -> tuple[str | None, str]:
    """Evidently's version under ``python`` if it is 0.7, else None; and what the probe
    printed (its error where the import failed)."""
    probe = [str(python), "-c", "import evidently; print(evidently.__version__)"]
    found = subprocess.run(probe, capture_output=True, text=True)
    if found.returncode == 0 and found.stdout.startswith("0.7."):
        return found.stdout.strip(), found.stdout
    return None, found.stderr or found.stdout


def evidently_python(given: str | None) -> tuple[Path | None, str]:
    """The interpreter that has Evidently 0.7 and its version, installing it into
    ``.venv-bench`` where needed (into ``given``'s environment too, if that lacks it); or
    None and why not (``given`` missing, or the venv or pip failing: no network, say)."""
    python = Path(given) if given else BENCH_VENV / "bin" / "python"
    if python.exists():
        version, _ = _evidently_version(python)
        if version:
            return python, version
    elif given:
        return None, f"{given} does not exist"
    else:
        made = subprocess.run([PYTHON, "-m", "venv", str(BENCH_VENV)], capture_output=True)
        if made.returncode:
            return None, f"could not make {BENCH_VENV}: {made.stderr.decode()[-500:]}"
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    done = subprocess.run([*install, *EVIDENTLY], capture_output=True, text=True)
    if done.returncode:
        return None, f"pip could not install {', '.join(EVIDENTLY)}: {done.stderr[-500:]}"
    version, printed = _evidently_version(python)
    if not version:
        return None, f"Evidently 0.7 is not importable: {printed[-500:]}"
    return python, version


def run_evidently(
    python: Path, bodies: dict[str, bytes], rows: int | None, workdir: Path
) -> dict[str, Any]:
    """The worker's answer (see ``evidently_worker.py``) on the reference and current
    Parquet bodies, both subsampled to ``rows`` rows first unless ``rows`` is None; raises
    RuntimeError where the worker fails, and TimeoutExpired after 30 minutes."""
    paths = []
    for side in ("reference", "current"):
        path = workdir / f"{side}.parquet"
        path.write_bytes(bodies[f"{side} parquet"])
        paths.append(str(path))
    spec: dict[str, object] = {
        "numerical": list(NUMERIC),
        "categorical": list(CATEGORICAL),
        "rows": rows,
        "seed": SEED,
    }
    command = [str(python), str(BENCHMARKS / "evidently_worker.py"), *paths, json.dumps(spec)]
    # Evidently may report usage over the network; a benchmark must not.
    env = {**os.environ, "DO_NOT_TRACK": "1", "EVIDENTLY_DISABLE_TELEMETRY": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    if done.returncode:
        raise RuntimeError(f"the Evidently worker failed:\n{done.stderr[-3000:]}")
    # Only the last line is the worker's answer: a library may print to stdout before it.
    return json.loads(done.stdout.strip().splitlines()[-1])
