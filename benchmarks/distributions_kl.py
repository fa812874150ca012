"""``POST /distributions/kl`` end to end over HTTP against the same closed form in process,
for 100,000 pairs of 10-dimensional Gaussians given by full covariance matrices.

The body holds p and q as batches: ``loc`` 100,000 x 10 and ``covariance_matrix``
100,000 x 10 x 10 each (A A^T / 10 + I / 2 for A standard normal, drawn with numpy's
``default_rng``, rounded to 4 decimals so that the JSON stays near 160 MB; rounding keeps
them symmetric and, with eigenvalues >= 0.5, positive definite). That is over the
default body limit (64 MiB), so the service is started with
``DIVERGENCE_MAX_BODY_BYTES=1 GiB`` (and TensorFlow's warm-up off: this route never uses
it); every other setting is the default.

Over HTTP: the service started as ``python -m service serve --port P`` on a free loopback
port, a few timed requests with the standard library's http.client (best and median;
the body encoded once beforehand, the answer read but not decoded inside the timing),
taking turns with the same body posted to the bare app of ``benchmarks/bare_app.py``,
which only reads it: the floor that HTTP alone costs. In process, the baseline is
``orjson.loads`` then ``np.array`` of the four parameters, ``np.linalg.cholesky`` of the
covariances and ``service.distributions.gaussians.kl`` (the vectorised closed form the
service runs): no checks. The ratio HTTP / baseline is the figure of merit (target
<= 1.5x). A breakdown of the service's own steps in process follows.

Run: ``.venv/bin/python benchmarks/distributions_kl.py [--repeats 5] [--markdown]``
(a few minutes on two cores).
"""

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
)

from service.core.config import Settings
from service.distributions import gaussians, json_reader, routes, schemas
from service.distributions.parsing import parse

PAIRS, DIMENSION, SEED = 100_000, 10, 20261130
TARGET = 1.5


def gaussians_batch(rng: np.random.Generator) -> dict[str, Any]:
    a = rng.normal(size=(PAIRS, DIMENSION, DIMENSION))
    covariance = a @ np.swapaxes(a, -1, -2) / DIMENSION + 0.5 * np.eye(DIMENSION)
    covariance = np.round((covariance + np.swapaxes(covariance, -1, -2)) / 2, 4)
    loc = np.round(rng.normal(size=(PAIRS, DIMENSION)), 4)
    return {
        "family": "multivariate_normal",
        "loc": loc.tolist(),
        "covariance_matrix": covariance.tolist(),
    }


def payload() -> bytes:
    rng = np.random.default_rng(SEED)
    return orjson.dumps({"p": gaussians_batch(rng), "q": gaussians_batch(rng)})


def baseline(body: bytes) -> np.ndarray:
    data = orjson.loads(body)
    p, q = data["p"], data["q"]
    tril_p = np.linalg.cholesky(np.array(p["covariance_matrix"]))
    tril_q = np.linalg.cholesky(np.array(q["covariance_matrix"]))
    return gaussians.kl(np.array(p["loc"]), tril_p, np.array(q["loc"]), tril_q)


def over_http(body: bytes, repeats: int) -> tuple[list[float], list[float], bytes]:
    """Seconds per POST of ``body`` to the service, and to the bare app's /read-body,
    taking turns; and the service's last answer."""
    headers = {"content-type": "application/json"}
    with tempfile.TemporaryDirectory(prefix="distributions-kl-") as tmp:
        workdir = Path(tmp)
        env = {
            **service_env(workdir),
            "DIVERGENCE_MAX_BODY_BYTES": str(1 << 30),
            "DIVERGENCE_WARM_TENSORFLOW": "false",
        }
        with (
            running("service", service_argv(), workdir, env) as service,
            running("bare", bare_argv(), workdir) as bare,
        ):
            times: dict[str, list[float]] = {service.url: [], bare.url: []}
            answer = b""
            for i in range(repeats + 1):  # the first round warms up, untimed
                for url, path in ((service.url, "/distributions/kl"), (bare.url, "/read-body")):
                    start = time.perf_counter()
                    status, answer_bytes = post_bytes(url + path, body, headers)
                    elapsed = time.perf_counter() - start
                    if status != 200:
                        raise RuntimeError(f"POST {path} answered {status}: {answer_bytes[:500]!r}")
                    if path != "/read-body":
                        answer = answer_bytes
                    if i:
                        times[url].append(elapsed)
    return times[service.url], times[bare.url], answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    markdown_option(parser)
    args = parser.parse_args()
    md = args.markdown

    body = payload()
    say(
        f"POST /distributions/kl, {PAIRS:,} pairs of {DIMENSION}-dimensional Gaussians "
        f"(loc and covariance_matrix for p and q), {len(body) / 1e6:.1f} MB of JSON; "
        f"best and median of {args.repeats}",
        markdown=md,
    )
    http, floor, answer = over_http(body, args.repeats)
    note = machine_note()

    expected = baseline(body)
    got = np.array(orjson.loads(answer)["kl"], dtype=float)
    if not np.allclose(got, expected, rtol=1e-12, atol=0):
        raise RuntimeError("the service's values differ from the in-process closed form")

    settings = Settings()
    model = schemas.DistributionKLRequest
    request = model.model_validate_json(body)

    def read() -> schemas.DistributionKLRequest:
        """The body as the route reads it."""
        read = json_reader.read_json(model, body)
        assert isinstance(read, model)
        return read

    data = orjson.loads(body)
    arrays = {
        side: (np.array(data[side]["loc"]), np.array(data[side]["covariance_matrix"]))
        for side in ("p", "q")
    }
    trils = {side: np.linalg.cholesky(arrays[side][1]) for side in ("p", "q")}
    limits = routes.limits_from(settings)
    response = routes.distributions_kl(request, settings)

    stages: list[tuple[str, Callable[[], object]]] = [
        ("baseline: orjson + np.array + cholesky + kl", lambda: baseline(body)),
        ("  orjson.loads", lambda: orjson.loads(body)),
        (
            "  np.array of the four parameters",
            lambda: [
                np.array(data[s][k]) for s in ("p", "q") for k in ("loc", "covariance_matrix")
            ],
        ),
        (
            "  np.linalg.cholesky (both)",
            lambda: [np.linalg.cholesky(a[1]) for a in arrays.values()],
        ),
        (
            "  gaussians.kl (the closed form)",
            lambda: gaussians.kl(arrays["p"][0], trils["p"], arrays["q"][0], trils["q"]),
        ),
        (
            "service path, in process, no HTTP",
            lambda: routes.distributions_kl(read(), settings).model_dump_json(exclude_unset=True),
        ),
        ("  read the body (simdjson into numpy, then the model)", read),
        (
            "  (pydantic model_validate_json, for comparison)",
            lambda: model.model_validate_json(body),
        ),
        (
            "  parse both sides (arrays, checks, Cholesky)",
            lambda: [parse(side.root, ("body", "p"), limits) for side in (request.p, request.q)],
        ),
        (
            "  route distributions_kl (parse, kl, answer)",
            lambda: routes.distributions_kl(request, settings),
        ),
        ("  answer serialization", lambda: response.model_dump_json(exclude_unset=True)),
    ]
    measured = {"HTTP end to end (service)": http, "HTTP floor (bare app reads the body)": floor}
    for name, fn in stages:
        measured[name] = timings(fn, args.repeats)

    base_times = measured["baseline: orjson + np.array + cholesky + kl"]
    base = statistics.median(base_times)
    print(stage_table(measured, "baseline: orjson + np.array + cholesky + kl", markdown=md))
    ratio = statistics.median(http) / base
    best_ratio = min(http) / min(base_times)
    verdict = "met" if ratio <= TARGET else "MISSED"
    say(
        f"HTTP / in-process baseline: {ratio:.2f}x median, {best_ratio:.2f}x best; "
        f"target <= {TARGET}x: {verdict}",
        markdown=md,
    )
    say(note, markdown=md)


if __name__ == "__main__":
    main()
