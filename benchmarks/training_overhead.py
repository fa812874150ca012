"""Training through the service against a plain Keras script, on the real CIFAR-10.

    python benchmarks/training_overhead.py [CIFAR10_DIR] [--epochs 3] [--rounds 1] [--markdown]

CIFAR10_DIR defaults to ../shared/data/cifar10-jpeg.tar.gz unpacked into a temporary
folder. Each round trains one run per loss for EPOCHS epochs both ways, alternating:
the plain script (``plain_keras.py``, a fresh interpreter per loss) and one job through the
service (POST /jobs, polled until it ends; its child process trains both losses). It
prints seconds per epoch both ways (the median over every epoch after the first, which
also holds tracing) and the whole wall time per loss, with the service/plain ratios.
Target: the service's overhead at most 5%.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    PYTHON,
    ROOT,
    cifar10_dir,
    finished_job,
    machine_note,
    markdown_option,
    running,
    say,
    service_argv,
    table,
    training_env,
)


def plain(directory: Path, epochs: int, loss: str) -> dict[str, object]:
    out = subprocess.run(
        [PYTHON, str(ROOT / "benchmarks" / "plain_keras.py"), str(directory), str(epochs), loss],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"},
    )
    result: dict[str, object] = json.loads(out.stdout.decode().strip().splitlines()[-1])
    return result


def through_service(url: str, epochs: int) -> tuple[Any, float]:
    started = time.perf_counter()
    job = finished_job(url, {"epochs": epochs, "runs": 1})
    return job, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cifar10_dir", nargs="?", type=Path)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    markdown_option(parser)
    args = parser.parse_args()
    md = args.markdown
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        directory = cifar10_dir(args.cifar10_dir, work)
        env = training_env(work, directory)
        plain_epochs: dict[str, list[float]] = {"kl": [], "ce": []}
        service_epochs: dict[str, list[float]] = {"kl": [], "ce": []}
        plain_walls: list[float] = []
        service_walls: list[float] = []
        with running("service", service_argv(), work, env) as server:
            for _ in range(args.rounds):
                for loss in ("kl", "ce"):
                    result = plain(directory, args.epochs, loss)
                    plain_epochs[loss] += result["epoch_seconds"][1:]  # type: ignore[index]
                    plain_walls.append(float(result["wall_seconds"]))  # type: ignore[arg-type]
                job, wall = through_service(server.url, args.epochs)
                service_walls.append(wall / 2)
                for run in job["results"]["runs"]:
                    service_epochs[run["loss"]] += run["epoch_seconds"][1:]
            note = machine_note()
        rows = []
        for loss in ("kl", "ce"):
            p, s = statistics.median(plain_epochs[loss]), statistics.median(service_epochs[loss])
            rows.append([f"{loss}: s/epoch", f"{p:.2f}", f"{s:.2f}", f"{s / p:.3f}"])
        pw, sw = statistics.median(plain_walls), statistics.median(service_walls)
        rows.append(
            [
                "wall s per loss (import, load, fit, test)",
                f"{pw:.1f}",
                f"{sw:.1f}",
                f"{sw / pw:.3f}",
            ]
        )
        say(
            f"{args.epochs} epochs per run, {args.rounds} round(s), batch 250, "
            f"validation split 0.2, real CIFAR-10 from {directory}",
            markdown=md,
        )
        print(table(["", "plain Keras", "service", "service/plain"], rows, markdown=md))
        say(note, markdown=md)


if __name__ == "__main__":
    main()
