"""Load, leaks and latency under training: ``POST /kl`` and ``POST /kl/batch`` under wrk.

    python benchmarks/load.py [--seconds 25] [--cifar10-dir DIR] [--markdown]

1. Load: wrk (16 connections) on ``POST /kl`` (10 elements) and on ``POST /kl/batch``
   (100 rows x 10), ``--seconds`` each, against one service process; prints requests per
   second, p50 / p99 latency and errors (socket errors and non-2xx answers, which must be
   zero), and the server's resident memory before and after (a leak would grow it).
2. Latency under training: the p99 of ``POST /kl`` (4 connections, 20 s) while idle, then
   while a training job runs in the same service (its child process trains on
   ``--cifar10-dir``, default ../shared/data unpacked, else generated images); prints the
   ratio (target: within 2x).

Needs wrk on the PATH (Debian: ``apt-get install wrk``). About two minutes. ``--markdown``
prints the tables in Markdown.
"""

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    ROOT,
    machine_note,
    markdown_option,
    running,
    say,
    service_argv,
    table,
    wait_for_tensorflow,
)

ARCHIVE = ROOT.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"
# A level-2 long string: the JSON of a batch holds "]]", which would end a [[...]] string.
LUA = (
    'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [==[{}]==]\n'
)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def wrk(url: str, body: str, seconds: float, connections: int, work: Path) -> dict[str, float]:
    script = work / f"post-{abs(hash(body))}.lua"
    script.write_text(LUA.format(body))
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    errors = sum(
        int(n)
        for n in re.findall(
            r"(?:connect|read|write|timeout) (\d+)", " ".join(re.findall(r"Socket errors:.*", out))
        )
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": _ms(latency["50"]),
        "p99": _ms(latency["99"]),
        "errors": errors + (int(non_2xx.group(1)) if non_2xx else 0),
    }


def make_images(root: Path) -> Path:
    from PIL import Image

    from service.training.data import CLASSES

    rng = np.random.default_rng(0)
    for split, count in (("train", 500), ("test", 100)):
        for label, name in enumerate(CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                pixels = np.clip(label * 25 + rng.normal(0, 30, (32, 32, 3)), 0, 255)
                Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{i}.png")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=25)
    parser.add_argument("--cifar10-dir", type=Path)
    markdown_option(parser)
    args = parser.parse_args()
    md = args.markdown
    if shutil.which("wrk") is None:
        sys.exit("wrk is not on the PATH (Debian: apt-get install wrk)")
    rng = np.random.default_rng(0)
    pair = rng.random((2, 10))
    pair /= pair.sum(axis=1, keepdims=True)
    kl_body = f'{{"p": {pair[0].tolist()}, "q": {pair[1].tolist()}}}'
    rows = rng.random((2, 100, 10))
    rows /= rows.sum(axis=2, keepdims=True)
    batch_body = f'{{"p": {rows[0].tolist()}, "q": {rows[1].tolist()}}}'
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cifar = args.cifar10_dir
        if cifar is None and ARCHIVE.exists():
            with tarfile.open(ARCHIVE) as archive:
                archive.extractall(work / "cifar", filter="data")
            cifar = work / "cifar"
        cifar = cifar or make_images(work / "images")
        env = {"DIVERGENCE_DATA_DIR": str(work / "data"), "DIVERGENCE_CIFAR10_DIR": str(cifar)}
        with running("service", service_argv(), work, env) as server:
            wait_for_tensorflow(server.url)
            pid = server.process.pid
            wrk(server.url + "/kl", kl_body, 3, 16, work)  # warm-up
            before = rss_mib(pid)
            load = {
                path: wrk(server.url + path, body, args.seconds, 16, work)
                for path, body in (("/kl", kl_body), ("/kl/batch", batch_body))
            }
            time.sleep(1)
            after = rss_mib(pid)
            say(
                f"Load: wrk, 16 connections, {args.seconds:g} s per endpoint, one service "
                "process (uvicorn, uvloop, httptools)",
                markdown=md,
            )
            print(
                table(
                    ["endpoint", "req/s", "p50 ms", "p99 ms", "errors"],
                    [
                        [
                            path,
                            f"{r['rps']:,.0f}",
                            f"{r['p50']:.2f}",
                            f"{r['p99']:.2f}",
                            int(r["errors"]),
                        ]
                        for path, r in load.items()
                    ],
                    markdown=md,
                )
            )
            say(
                f"resident memory: {before:.0f} MiB before, {after:.0f} MiB after "
                f"({100 * (after / before - 1):+.1f}%; target within 10%)",
                markdown=md,
            )
            note = machine_note()

            idle = wrk(server.url + "/kl", kl_body, 20, 4, work)
            job = httpx.post(
                server.url + "/jobs",
                json={"epochs": 50, "runs": 1, "losses": ["kl"], "train_limit": 20_000},
            ).json()
            while httpx.get(f"{server.url}/jobs/{job['id']}").json()["progress"] is None:
                time.sleep(0.5)
            busy = wrk(server.url + "/kl", kl_body, 20, 4, work)
            state = httpx.get(f"{server.url}/jobs/{job['id']}").json()
            httpx.delete(f"{server.url}/jobs/{job['id']}")
            say(
                f"\nPOST /kl with 4 connections, 20 s, idle and while a job trains "
                f"(it was {state['status']}, epoch {state['progress']['epoch']}):",
                markdown=md,
            )
            print(
                table(
                    ["", "req/s", "p50 ms", "p99 ms", "errors"],
                    [
                        [
                            name,
                            f"{r['rps']:,.0f}",
                            f"{r['p50']:.2f}",
                            f"{r['p99']:.2f}",
                            int(r["errors"]),
                        ]
                        for name, r in (("idle", idle), ("training", busy))
                    ],
                    markdown=md,
                )
            )
            say(
                f"p99 while training / idle p99: {busy['p99'] / idle['p99']:.2f} "
                "(target: within 2x)",
                markdown=md,
            )
            say(note, markdown=md)


if __name__ == "__main__":
    main()
