"""``POST /kl/batch`` end to end over HTTP against parsing and computing the same body in process.

The body is 10,000 rows x 100 elements for both p and q (about 40 MB of JSON; rows drawn
with numpy's ``default_rng`` and normalized). Over HTTP: the service started as
``python -m service serve --port P`` on a free loopback port (default settings; the
64 MiB body limit fits), TensorFlow warmed up by one small batch request first, then a
few timed requests with the standard library's http.client (best and median; the body is
encoded once beforehand, the answer is read but not decoded inside the timing; httpx is
slower than the server at sending big bodies), taking turns with the same body posted
to the bare app of ``benchmarks/bare_app.py`` (same uvicorn settings), which only reads it:
the floor that HTTP alone costs. In process, the baseline is
``np.array(orjson.loads(body)["p"])`` (and q) then ``service.divergences.formulas.kl``;
the ratio HTTP / baseline is the figure of merit (target <= 1.3x).

A breakdown follows, all in this process on the same body: orjson, stdlib ``json.loads``,
the numpy conversion and compute, and the service's own steps: the reader its batch routes
use (``service.divergences.codecs.json_arrays.read_arrays``: simdjson straight into numpy
arrays), with
pydantic's ``KLBatchRequest.model_validate_json`` beside it (the path of bodies that reader
leaves, see service/web/json_body.py), its route function ``kl_batch`` (which checks the
input and scores on TensorFlow) and the answer's serialization, so the reader sees where
the time goes.

Run: ``.venv/bin/python benchmarks/batch_json.py [--repeats 5] [--markdown]`` (about a minute).
"""

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson
from _harness import (
    bare_argv,
    machine_note,
    markdown_option,
    post_bytes,
    running,
    say,
    service_argv,
    service_env,
    stage_table,
    timings,
    wait_for_tensorflow,
)

from service.core.config import Settings
from service.divergences import formulas, routes, schemas
from service.divergences.codecs.json_arrays import read_arrays
from service.divergences.deps import limits_from

ROWS, COLUMNS, SEED = 10_000, 100, 20240601


def payload() -> bytes:
    rng = np.random.default_rng(SEED)
    p = rng.random((ROWS, COLUMNS))
    q = rng.random((ROWS, COLUMNS))
    p /= p.sum(axis=1, keepdims=True)
    q /= q.sum(axis=1, keepdims=True)
    return orjson.dumps({"p": p.tolist(), "q": q.tolist()})


def over_http(body: bytes, repeats: int) -> tuple[list[float], list[float]]:
    """Seconds per POST of ``body`` to the service's /kl/batch, and to the bare app's
    /read-body (the HTTP floor: the same bytes sent, received and dropped), taking turns."""
    headers = {"content-type": "application/json"}
    with tempfile.TemporaryDirectory(prefix="batch-json-") as tmp:
        workdir = Path(tmp)
        with (
            running("service", service_argv(), workdir, service_env(workdir)) as service,
            running("bare", bare_argv(), workdir) as bare,
        ):
            wait_for_tensorflow(service.url)
            times: dict[str, list[float]] = {service.url: [], bare.url: []}
            answers = []
            for i in range(repeats + 1):  # the first round warms up, untimed
                for url, path in ((service.url, "/kl/batch"), (bare.url, "/read-body")):
                    start = time.perf_counter()
                    status, answer = post_bytes(url + path, body, headers)
                    elapsed = time.perf_counter() - start
                    if status != 200:
                        raise RuntimeError(f"POST {path} answered {status}: {answer[:500]!r}")
                    answers.append(orjson.loads(answer))
                    if i:
                        times[url].append(elapsed)
    summary = answers[-2]["summary"]
    if summary["rows"] != ROWS or summary["infinite_rows"]:
        raise RuntimeError(f"unexpected answer: {summary}")
    if answers[-1]["bytes"] != len(body):
        raise RuntimeError("the bare app did not read the whole body")
    return times[service.url], times[bare.url]


def baseline(body: bytes) -> np.ndarray:
    data = orjson.loads(body)
    return formulas.kl(np.array(data["p"]), np.array(data["q"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    markdown_option(parser)
    args = parser.parse_args()
    md = args.markdown

    body = payload()
    say(
        f"POST /kl/batch, p and q {ROWS:,} x {COLUMNS} (rows normalized), "
        f"{len(body) / 1e6:.1f} MB of JSON; best and median of {args.repeats}",
        markdown=md,
    )
    http, floor = over_http(body, args.repeats)
    note = machine_note()

    data = orjson.loads(body)
    p, q = np.array(data["p"]), np.array(data["q"])
    request = read_arrays(schemas.KLBatchRequest, body)
    if request is None:
        raise RuntimeError("the service's JSON reader did not take the batch")
    limits = limits_from(Settings())
    routes.kl_batch(request, limits)  # traces the TensorFlow kernel once
    answer = routes.kl_batch(request, limits)
    expected = formulas.kl(p, q)
    if not np.allclose(np.array(answer.kl, dtype=float), expected, rtol=1e-12, atol=0):
        raise RuntimeError("the service's values differ from numpy's")

    stages: list[tuple[str, Callable[[], object]]] = [
        ("baseline: orjson + np.array + formulas.kl", lambda: baseline(body)),
        ("  orjson.loads", lambda: orjson.loads(body)),
        (
            "  np.array(p) + np.array(q) from lists",
            lambda: (np.array(data["p"]), np.array(data["q"])),
        ),
        ("  formulas.kl (numpy)", lambda: formulas.kl(p, q)),
        ("stdlib json.loads", lambda: json.loads(body)),
        (
            "service path, in process, no HTTP",
            lambda: routes.kl_batch(
                read_arrays(schemas.KLBatchRequest, body),  # type: ignore[arg-type]
                limits,
            ).model_dump_json(),
        ),
        ("  read_arrays (simdjson into numpy)", lambda: read_arrays(schemas.KLBatchRequest, body)),
        (
            "  (pydantic model_validate_json: the fallback)",
            lambda: schemas.KLBatchRequest.model_validate_json(body),
        ),
        ("  route kl_batch (checks, TF score, answer)", lambda: routes.kl_batch(request, limits)),
        ("  answer serialization (model_dump_json)", lambda: answer.model_dump_json()),
    ]
    measured = {
        "HTTP end to end (service)": http,
        "HTTP floor (bare app reads the body)": floor,
    }
    for name, fn in stages:
        measured[name] = timings(fn, args.repeats)

    base = statistics.median(measured["baseline: orjson + np.array + formulas.kl"])
    print(stage_table(measured, "baseline: orjson + np.array + formulas.kl", markdown=md))
    ratio = statistics.median(http) / base
    best_ratio = min(http) / min(measured["baseline: orjson + np.array + formulas.kl"])
    verdict = "met" if ratio <= 1.3 else "MISSED"
    say(
        f"HTTP / in-process baseline: {ratio:.2f}x median, {best_ratio:.2f}x best; "
        f"target <= 1.3x: {verdict}",
        markdown=md,
    )
    say(note, markdown=md)


if __name__ == "__main__":
    main()
